#!/usr/bin/env node
// `npm test`: the type-check, every test/*.test.ts on SQLite (the default store), then the
// store-agnostic suites (PG_SUITES) a second time on a private PostgreSQL 15 + pgvector that
// scripts/pg-local.sh builds and starts in a temp dir and destroys at the end, also on failure
// or Ctrl-C. Without PostgreSQL 15 server binaries and headers on the machine the second pass is
// skipped with a one-line reason, unless FACEREC_REQUIRE_POSTGRES=1 (CI), which makes it an error.
//
//   npm test                          everything
//   npm test -- test/api.test.ts      these files only, in both passes (the PostgreSQL pass runs
//                                     those of them that are in PG_SUITES)
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The suites that run a second time on PostgreSQL: those that go through the store and search
 * ports only (the API, access, privacy, metrics…). The others test SQLite's own files, the
 * engine, the CLI's local mode, or start their own PostgreSQL
 * (pg-nodes.test.ts runs in the first pass).
 */
export const PG_SUITES = [
  'api', 'access', 'metrics', 'concurrency', 'privacy',
  'error-detail', 'ssrf-api', 'upload-limit', 'oversized', 'hard-faces', 'client',
  'openapi', 'fuzz', 'docs-constants', 'persons', 'persons-client', 'pg-search',
];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PG_LOCAL = join(ROOT, 'scripts', 'pg-local.sh');
const require = createRequire(import.meta.url);

const say = (line) => process.stdout.write(`npm test: ${line}\n`);
const elapsed = (ms) => {
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
};

let current; // the running child, if any
let pgDir; // the private PostgreSQL's directory while it exists

/** Runs a command with the terminal's stdio; resolves with its exit code (signals count as failure). */
function run(command, args, env = process.env) {
  return new Promise((done) => {
    current = spawn(command, args, { cwd: ROOT, env, stdio: 'inherit' });
    current.once('error', (err) => { console.error(err); done(1); });
    current.once('exit', (code, signal) => { current = undefined; done(code ?? (signal ? 1 : 0)); });
  });
}

const nodeTest = (files, env) =>
  run(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], env);

function destroyPostgres() {
  if (!pgDir) return;
  spawnSync('bash', [PG_LOCAL, 'destroy', pgDir], { cwd: ROOT, stdio: 'inherit' });
  pgDir = undefined;
}

for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    current?.kill(signal);
    destroyPostgres();
    process.exit(128 + ({ SIGINT: 2, SIGTERM: 15, SIGHUP: 1 })[signal]);
  });
}

const suiteName = (file) => basename(file).replace(/\.test\.ts$/, '');
const requested = process.argv.slice(2);
const allFiles = readdirSync(join(ROOT, 'test')).filter((f) => f.endsWith('.test.ts')).sort().map((f) => `test/${f}`);
const sqliteFiles = requested.length ? requested : allFiles;
const pgFiles = (requested.length ? requested : PG_SUITES.map((s) => `test/${s}.test.ts`)).filter((f) => PG_SUITES.includes(suiteName(f)));
const requirePostgres = process.env.FACEREC_REQUIRE_POSTGRES === '1';

// Whether the machine can run the PostgreSQL pass, asked before the long first pass.
const check = spawnSync('bash', [PG_LOCAL, 'check'], { cwd: ROOT, encoding: 'utf8' });
const pgMissing = check.status === 0 ? undefined : (check.stderr.trim().split('\n').pop() || 'pg-local.sh check failed');
if (pgMissing && requirePostgres) {
  say(`FACEREC_REQUIRE_POSTGRES=1 but PostgreSQL cannot run here: ${pgMissing}`);
  process.exit(1);
}

const results = [];
const started = performance.now();

let t0 = performance.now();
const tsc = await run(process.execPath, [require.resolve('typescript/bin/tsc'), '--noEmit', '-p', '.']);
results.push(`type-check ${tsc === 0 ? 'passed' : 'FAILED'} in ${elapsed(performance.now() - t0)}`);
if (tsc !== 0) {
  say(results.at(-1));
  process.exit(1);
}

// The first pass runs without FACEREC_TEST_DATABASE_URL even if the caller's shell has it.
const sqliteEnv = { ...process.env };
delete sqliteEnv.FACEREC_TEST_DATABASE_URL;
say(`SQLite pass: ${sqliteFiles.length} files`);
t0 = performance.now();
const sqlite = await nodeTest(sqliteFiles, sqliteEnv);
results.push(`SQLite pass (${sqliteFiles.length} files) ${sqlite === 0 ? 'passed' : 'FAILED'} in ${elapsed(performance.now() - t0)}`);
say(results.at(-1));

let pgStatus = 0;
if (pgFiles.length === 0) {
  results.push('PostgreSQL pass: no requested file is in PG_SUITES');
} else if (pgMissing) {
  results.push(`PostgreSQL pass SKIPPED: ${pgMissing} (FACEREC_REQUIRE_POSTGRES=1 makes this an error)`);
} else {
  t0 = performance.now();
  pgDir = mkdtempSync(join(tmpdir(), 'facerec-test-pg-'));
  let url = '';
  const start = spawnSync('bash', ['-c', `"${PG_LOCAL}" build && "${PG_LOCAL}" start "$0"`, pgDir], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  url = start.status === 0 ? start.stdout.trim().split('\n').pop() : '';
  if (!url.startsWith('postgres://')) {
    pgStatus = 1;
    results.push('PostgreSQL pass FAILED: scripts/pg-local.sh could not build or start PostgreSQL');
  } else {
    say(`PostgreSQL pass: ${pgFiles.length} files (${pgFiles.map(suiteName).join(', ')}) on PostgreSQL under ${pgDir}`);
    try {
      pgStatus = await nodeTest(pgFiles, { ...process.env, FACEREC_TEST_DATABASE_URL: url });
    } finally {
      destroyPostgres();
    }
    results.push(`PostgreSQL pass (${pgFiles.length} files) ${pgStatus === 0 ? 'passed' : 'FAILED'} in ${elapsed(performance.now() - t0)}`);
  }
  destroyPostgres();
}

for (const line of results) say(line);
say(`total ${elapsed(performance.now() - started)}`);
process.exit(sqlite === 0 && pgStatus === 0 ? 0 : 1);
