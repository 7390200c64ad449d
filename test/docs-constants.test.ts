/**
 * Figures the documentation quotes from the code cannot drift from it (issue 16): every model
 * version in docs/ and README.md is the one the server reports, every default in the README's
 * settings table is what `loadConfig` gives, every setting `loadConfig` reads is in that table,
 * and the image cap quoted in bytes is the code's default.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../src/config.js';
import { DEFAULT_MAX_IMAGE_BYTES } from '../src/domain/limits.js';
import { MODEL_VERSION } from '../src/engine/models.js';
import { startApi, type TestApi } from './support/api-helpers.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const DOCS = [join(ROOT, 'README.md'), ...readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => join(ROOT, 'docs', f))];
const text = (file: string) => readFileSync(file, 'utf8');
const rel = (file: string) => file.slice(ROOT.length);

/** Every match of `pattern` (its first group) in the documentation, with the file it is in. */
function quoted(pattern: RegExp): { file: string; value: string }[] {
  return DOCS.flatMap((file) => [...text(file).matchAll(pattern)].map((m) => ({ file: rel(file), value: m[1] })));
}

describe('model version', () => {
  let api: TestApi;
  before(async () => {
    api = await startApi();
  });
  after(async () => api?.dispose());

  test('MODEL_VERSION is what a v1 answer reports', async () => {
    assert.equal((await api.v2('POST', '/groups', { groupId: 'docs-version' })).header.resultCode, 0);
    const r = await api.v1('GET', '/groups?limit=10');
    assert.equal(r.header.resultCode, 0);
    assert.deepEqual(r.data.groups.map((g: { modelVersion: string }) => g.modelVersion), [MODEL_VERSION]);
  });

  test('every model version quoted in the docs (`facerec-…`, "modelVersion": "…") is MODEL_VERSION', () => {
    const versions = [...quoted(/[`"'](facerec-[^`"'\s<>]+)[`"']/g), ...quoted(/"modelVersion"\s*:\s*"([^"]*)"/g)];
    assert.ok(versions.length >= 2, 'the docs quote the model version (api-compatibility.md, engine.md)');
    for (const v of versions) assert.equal(v.value, MODEL_VERSION, `${v.file} quotes modelVersion ${v.value}`);
  });
});

describe("README's settings table", () => {
  /** `| \`NAME\` | default | meaning |` rows: each variable named in the first cell, with the second cell. */
  const rows = new Map<string, string>();
  for (const line of text(join(ROOT, 'README.md')).split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || !cells[1].startsWith('`')) continue;
    for (const [, name] of cells[1].matchAll(/`([A-Z][A-Z0-9_]+)`/g)) rows.set(name, cells[2]);
  }
  const config = loadConfig({}, false);
  /** What each default cell must say, from the code. */
  const expected: Record<string, (c: Config) => string> = {
    PORT: (c) => `\`${c.port}\``,
    HOST: (c) => `\`${c.host}\``,
    FACEREC_DATA_DIR: (c) => (c.dataDir === resolve('./data') ? '`./data`' : c.dataDir),
    FACEREC_APPKEY: (c) => (c.appKey === undefined ? '—' : c.appKey),
    FACEREC_SECRETKEY: (c) => (c.secretKey === undefined ? '—' : c.secretKey),
    FACEREC_MASTER_KEY: (c) => (c.masterKey === undefined ? '—' : c.masterKey),
    FACEREC_MAX_FACES_PER_GROUP: (c) => `\`${c.limits.maxFacesPerGroup}\``,
    FACEREC_MAX_GROUPS: (c) => `\`${c.limits.maxGroupsPerApp}\``,
    FACEREC_WORKERS: (c) => (c.workers === availableParallelism() ? 'number of cores' : String(c.workers)),
    FACEREC_QUEUE: (c) => (c.queue === 16 * c.workers ? '`16 × workers`' : String(c.queue)),
    FACEREC_LONE_REQUEST_THREADS: (c) => (c.loneRequestThreads === Math.min(2, availableParallelism()) ? '`2` (`1` on one core)' : String(c.loneRequestThreads)),
    FACEREC_ALLOW_PRIVATE_URLS: (c) => `\`${c.allowPrivateUrls}\``,
    FACEREC_URL_TIMEOUT_MS: (c) => `\`${c.urlTimeoutMs}\``,
    FACEREC_PAGE_TOKEN_TTL_S: (c) => `\`${c.pageTokenTtlMs / 1000}\``,
    FACEREC_LEAD_FACE: (c) => `\`${c.leadFace}\``,
    FACEREC_DETECTOR: (c) => `\`${c.detectors}\``,
    FACEREC_MASK_MODEL: (c) => `\`${c.maskModel}\``,
    FACEREC_LOG_LEVEL: (c) => `\`${c.logLevel}\``,
    // Not a terminal (this test's config) → json; on a terminal → pretty.
    FACEREC_LOG_FORMAT: (c) => `\`${c.logFormat}\`, or \`${loadConfig({}, true).logFormat}\` when stdout is a terminal`,
    FACEREC_MAX_IMAGE_BYTES: (c) => `\`${c.maxImageBytes}\``,
    FACEREC_INDEX_EXACT_BELOW: (c) => `\`${c.indexExactBelow}\``,
    FACEREC_INDEX_MEMORY_MB: (c) => `\`${c.indexMemoryBytes / 2 ** 20}\``,
    FACEREC_AUDIT_RETENTION_DAYS: (c) => `\`${c.auditRetentionMs / 86_400_000}\``,
    FACEREC_DATABASE_URL: (c) => (c.database === undefined ? '—' : c.database.url),
    // Read only with a URL: the defaults of a config that has one.
    FACEREC_DATABASE_POOL: () => `\`${loadConfig({ FACEREC_DATABASE_URL: 'postgres://h/d' }, false).database!.poolSize}\``,
    FACEREC_DATABASE_STATEMENT_TIMEOUT_MS: () => `\`${loadConfig({ FACEREC_DATABASE_URL: 'postgres://h/d' }, false).database!.statementTimeoutMs}\``,
    FACEREC_DATABASE_CA_FILE: () => '—',
  };

  test('every setting loadConfig reads is a row of the table', () => {
    const source = text(join(ROOT, 'src', 'config.ts'));
    const read = new Set([...source.matchAll(/env\.([A-Z][A-Z0-9_]+)|env, '([A-Z][A-Z0-9_]+)'/g)].map((m) => m[1] ?? m[2]));
    assert.ok(read.size >= 15, `found ${[...read]}`);
    for (const name of read) assert.ok(rows.has(name), `${name} is read by src/config.ts but not in the README's settings table`);
  });

  test("every row's default is the code's", () => {
    for (const [name, cell] of rows) {
      const want = expected[name];
      assert.ok(want, `README lists ${name}: teach this test its default`);
      assert.equal(cell, want(config), `README's default for ${name}`);
    }
  });
});

test('the image cap quoted in bytes ("3,000,000 bytes") is DEFAULT_MAX_IMAGE_BYTES', () => {
  const figures = quoted(/(\d{1,3}(?:,\d{3})+) bytes/g);
  assert.ok(figures.length >= 3, 'README and docs quote the cap');
  for (const f of figures) assert.equal(Number(f.value.replaceAll(',', '')), DEFAULT_MAX_IMAGE_BYTES, `${f.file} quotes ${f.value} bytes`);
});
