import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { startApi, type TestApi } from './support/api-helpers.js';
import { fixturePath } from './support/fixtures.js';
import { externalIdFor } from '../src/cli/indexer/external-id.js';
import { IndexJournal, type JournalHeader } from '../src/cli/indexer/journal.js';
import { bytesForUpload, MAX_UPLOAD_BYTES } from '../src/cli/indexer/upload-bytes.js';

const BIN = fileURLToPath(new URL('../bin/facerec.mjs', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Starts `facerec …` as a user would; FACEREC_* from the test's own environment are not passed on. */
function spawnCli(args: string[], env: Record<string, string> = {}, cwd = ROOT): { child: ChildProcess; done: Promise<Run> } {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('FACEREC_')));
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}
const cli = (args: string[], env: Record<string, string> = {}, cwd?: string) => spawnCli(args, env, cwd).done;
const json = (r: Run) => {
  assert.equal(r.code, 0, `exit ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
};

/** State file lines after the header: photos done. */
const journalEntries = (path: string) => (existsSync(path) ? readFileSync(path, 'utf8').split('\n').filter(Boolean).slice(1) : []);
/** Photos done with a face registered (no-face photos are counted apart in reports). */
const registeredEntries = (path: string) => journalEntries(path).filter((l) => JSON.parse(l).outcome !== 'no-face').length;
/** Every photo is counted exactly once in a report's totals. */
const assertTotalsAddUp = (t: any) => assert.equal(t.added + t.skipped + t.noFace + t.errors + t.notAttempted, t.files, JSON.stringify(t));

async function waitFor(cond: () => boolean, what: string, timeoutMs = 30_000) {
  const until = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** sample1..6 (one face registered from each), one photo without a face, one corrupt JPEG, one non-photo. */
async function photoFolder(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'facerec-photos-'));
  mkdirSync(join(dir, 'more'));
  for (const i of [1, 2, 4, 5]) copyFileSync(fixturePath(`sample${i}.jpg`), join(dir, `sample${i}.jpg`));
  copyFileSync(fixturePath('sample3.jpg'), join(dir, 'more', 'sample 3.jpg')); // needs sanitising
  copyFileSync(fixturePath('sample6.jpg'), join(dir, 'more', '사진6.jpg'));
  await sharp({ create: { width: 320, height: 240, channels: 3, background: '#7f7f7f' } }).png().toFile(join(dir, 'blank.png'));
  writeFileSync(join(dir, 'corrupt.jpg'), readFileSync(fixturePath('sample2.jpg')).subarray(0, 3000));
  writeFileSync(join(dir, 'notes.txt'), 'not a photo');
  return dir;
}
const FACE_PHOTOS = 6;

describe('facerec CLI against a running server (--url)', () => {
  let api: TestApi;
  let env: Record<string, string>;
  const scratch = mkdtempSync(join(tmpdir(), 'facerec-cli-'));

  before(async () => {
    api = await startApi();
    await api.app.listen({ port: 0, host: '127.0.0.1' });
    const url = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    env = { FACEREC_URL: url, FACEREC_APPKEY: api.appKey, FACEREC_SECRETKEY: api.secretKey };
  });
  after(async () => {
    await api.dispose();
    rmSync(scratch, { recursive: true, force: true });
  });

  test('groups create, list, get, delete; API errors exit 1 with the result code', async () => {
    assert.match((await cli(['groups', 'create', 'staff'], env)).stdout, /created group staff/);
    assert.deepEqual(json(await cli(['groups', 'list', '--json'], env)), [{ groupId: 'staff' }]);
    const table = await cli(['groups', 'get', 'staff'], env);
    assert.match(table.stdout, /staff\s+│ \d{4}-\d\d-\d\dT[\d:]+\s+│ 0/);
    const dup = await cli(['groups', 'create', 'staff'], env);
    assert.equal(dup.code, 1);
    assert.match(dup.stderr, /DuplicatedGroupID \(resultCode -40020\)/);
    assert.equal(json(await cli(['--json', 'groups', 'delete', 'staff'], env)).deleted, true);
    assert.match((await cli(['groups', 'get', 'staff'], env)).stderr, /resultCode -40030/);
  });

  test('an API error shows the server\'s reason after the NHN name and code', async () => {
    const bad = await cli(['groups', 'create', 'Staff List'], env);
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, "facerec: InvalidGroupID (resultCode -40010): groupId contains 'S', a space, 'L'; groupId may use lower-case letters a-z, digits 0-9 and '-' only, 1 to 255 characters\n");
    const tooSmall = join(scratch, 'tiny.png');
    await sharp({ create: { width: 60, height: 40, channels: 3, background: '#808080' } }).png().toFile(tooSmall);
    assert.match((await cli(['detect', tooSmall], env)).stderr, /^facerec: InvalidImageSizeException \(resultCode -45070\): the image is 60×40 px; at least 80 px a side$/m);
  });

  test('keys are required with --url, and a bad secret is -41005', async () => {
    const noKeys = await cli(['--url', env.FACEREC_URL, 'groups', 'list']);
    assert.equal(noKeys.code, 2);
    assert.match(noKeys.stderr, /--app-key and --secret-key/);
    const bad = await cli(['groups', 'list', '--secret-key', 'wrong'], env);
    assert.match(bad.stderr, /resultCode -41005/);
  });

  test('faces add, list (filtered), search by faceId, verify, delete', async () => {
    await cli(['groups', 'create', 'people'], env);
    const added = json(await cli(['faces', 'add', 'people', fixturePath('sample5.jpg'), '--limit', '3', '--external-id', 'stairs.jpg', '--json'], env));
    assert.equal(added.resultCode, 0);
    assert.equal(added.addedFaceCount, 3);
    const one = json(await cli(['faces', 'add', 'people', fixturePath('sample1.jpg'), '--json'], env));
    assert.equal(one.addedFaceCount, 1, 'one face by default');
    const sample1Face = one.addedFaces[0].faceId as string;

    assert.equal(json(await cli(['faces', 'list', 'people', '--json'], env)).length, 4);
    const stairs = json(await cli(['faces', 'list', 'people', '--external-id', 'stairs.jpg', '--page-size', '2', '--json'], env));
    assert.equal(stairs.length, 3, 'pages are followed');
    assert.equal(json(await cli(['faces', 'list', 'people', '--max', '2', '--json'], env)).length, 2);
    assert.match((await cli(['faces', 'list', 'people', '--image-id', one.addedFaces[0].imageId], env)).stdout, new RegExp(sample1Face));

    const similar = json(await cli(['faces', 'search', 'people', stairs[0].faceId, '--threshold', '1', '--json'], env));
    assert.ok(similar.matchFaces.every((m: any) => m.face.faceId !== stairs[0].faceId));
    const verified = json(await cli(['faces', 'verify', 'people', sample1Face, fixturePath('sample1.jpg'), '--json'], env));
    assert.ok(verified.similarity >= 90);

    assert.match((await cli(['faces', 'delete', 'people', stairs[0].faceId, stairs[1].faceId], env)).stdout, /deleted 2 face/);
    assert.equal(json(await cli(['faces', 'list', 'people', '--json'], env)).length, 2);
  });

  test('detect: a table by default, JSON with --json, flags as options', async () => {
    const human = await cli(['detect', fixturePath('sample5.jpg')], env);
    assert.equal(human.code, 0, human.stderr);
    assert.equal(human.stdout.split('\n').filter((l) => /^│ \d /.test(l)).length, 5, human.stdout);
    const r = json(await cli(['detect', fixturePath('sample1.jpg'), '--json', '--no-orientation', '--spoofing', '--spoofing-condition', 'strict'], env));
    assert.equal(r.faceDetailCount, 3);
    assert.equal(r.faceDetails[0].orientation, undefined);
    assert.equal(typeof r.faceDetails[0].spoofing, 'boolean');
    const missing = await cli(['detect', join(scratch, 'nope.jpg')], env);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /cannot read image .*ENOENT/);
    assert.equal((await cli(['detect', fixturePath('sample1.jpg'), '--spoofing-condition', 'paranoid'], env)).code, 2, 'commander refuses bad choices: a usage error');
  });

  test('compare and search', async () => {
    const c = json(await cli(['compare', fixturePath('sample1.jpg'), fixturePath('sample1.jpg'), '--threshold', '90', '--json'], env));
    assert.equal(c.matchedFaceDetailCount, 1);
    assert.equal(c.unmatchedFaceDetailCount, 2);
    assert.match((await cli(['compare', fixturePath('sample1.jpg'), fixturePath('sample1.jpg')], env)).stdout, /100\.00\s+│ yes/);

    await cli(['groups', 'create', 'probe'], env);
    await cli(['faces', 'add', 'probe', fixturePath('sample1.jpg'), '--external-id', 'alice.jpg'], env);
    await cli(['faces', 'add', 'probe', fixturePath('sample2.jpg'), '--external-id', 'bob.jpg'], env);
    const s = json(await cli(['search', 'probe', fixturePath('sample1.jpg'), '--json'], env));
    assert.equal(s.matchFaces[0].face.externalImageId, 'alice.jpg');
    assert.ok(s.matchFaces.every((m: any) => m.similarity >= 70), 'default threshold 70');
    assert.match((await cli(['search', 'probe', fixturePath('sample1.jpg')], env)).stdout, /alice\.jpg/);
    const spoof = json(await cli(['spoofing', fixturePath('sample1.jpg'), '--condition', 'weak', '--json'], env));
    assert.equal(spoof.faceDetailCount, 3);
  });

  test('privacy: faces add with consent; subjects show, export (stdout, file) and erase; audit list; retention set, show, clear', async () => {
    await cli(['groups', 'create', 'consent'], env);
    const added = json(await cli(['faces', 'add', 'consent', fixturePath('sample1.jpg'), '--limit', '2', '--external-id', 'cli-subject', '--consent-ref', 'form-9', '--purpose', 'entry, lobby', '--json'], env));
    assert.equal(added.addedFaceCount, 2);
    const bad = await cli(['faces', 'add', 'consent', fixturePath('sample1.jpg'), '--external-id', 'cli-subject', '--purpose', 'x'.repeat(256)], env);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /InvalidParam \(resultCode -40000\): purpose must be/);

    const shown = json(await cli(['subjects', 'show', 'cli-subject', '--json'], env));
    assert.equal(shown.faceCount, 2);
    assert.deepEqual(shown.faces.map((f: any) => [f.consentRef, f.purpose]), [['form-9', 'entry, lobby'], ['form-9', 'entry, lobby']]);
    assert.match((await cli(['subjects', 'show', 'cli-subject'], env)).stdout, /consent\s+│ [0-9a-f-]{36} │[^\n]*│ form-9\s+│ entry, lobby/);
    const csv = await cli(['subjects', 'export', 'cli-subject', '--format', 'csv'], env);
    assert.equal(csv.code, 0, csv.stderr);
    assert.equal(csv.stdout.split('\r\n')[0], 'groupId,faceId,imageId,externalImageId,createTime,x0,y0,x1,y1,confidence,consentRef,purpose');
    assert.ok(csv.stdout.includes(',form-9,"entry, lobby"\r\n'));
    assert.equal(JSON.parse((await cli(['subjects', 'export', 'cli-subject'], env)).stdout).faceCount, 2, 'JSON by default');
    const file = join(scratch, 'subject.csv');
    const written = await cli(['subjects', 'export', 'cli-subject', '--format', 'csv', '-o', file], env);
    assert.match(written.stdout, /wrote the CSV record of cli-subject to /);
    assert.equal(readFileSync(file, 'utf8'), csv.stdout);
    const { statSync } = await import('node:fs');
    assert.equal(statSync(file).mode & 0o777, 0o600, 'the export is private');
    assert.equal((await cli(['subjects', 'export', 'cli-subject', '-o', file], env)).code, 2, 'an existing file is not overwritten');
    assert.equal((await cli(['subjects', 'export', 'cli-subject', '--format', 'xml'], env)).code, 2);
    assert.match((await cli(['subjects', 'export', 'bad id', '--format', 'csv'], env)).stderr, /resultCode -40000/);

    const erased = json(await cli(['subjects', 'erase', 'cli-subject', '--json'], env));
    assert.deepEqual(erased, { externalImageId: 'cli-subject', deletedFaceCount: 2, groups: [{ groupId: 'consent', deletedFaceCount: 2 }] });
    assert.match((await cli(['subjects', 'erase', 'cli-subject'], env)).stdout, /erased 0 face\(s\) of cli-subject/);
    assert.match((await cli(['subjects', 'show', 'cli-subject'], env)).stdout, /no faces for cli-subject/);

    const entries = json(await cli(['audit', 'list', '--external-id', 'cli-subject', '--json'], env));
    assert.deepEqual(entries.map((e: any) => e.action), ['register', 'export', 'export', 'export', 'export', 'export', 'erase', 'erase', 'export']);
    assert.equal(JSON.stringify(entries).includes('cli-subject'), false, 'pseudonyms only');
    const all = json(await cli(['audit', 'list', '--json', '--page-size', '2'], env));
    assert.ok(all.length >= entries.length && all.length > 2, 'pages of 2 are followed');
    assert.deepEqual(all.map((e: any) => e.seq), json(await cli(['audit', 'list', '--json'], env)).map((e: any) => e.seq));
    assert.deepEqual(json(await cli(['audit', 'list', '--json', '--max', '3'], env)).map((e: any) => e.seq), all.slice(0, 3).map((e: any) => e.seq));
    assert.deepEqual(json(await cli(['audit', 'list', '--json', '--after-seq', String(all[0].seq), '--max', '1'], env))[0].seq, all[1].seq);
    assert.equal(json(await cli(['audit', 'list', '--json', '--to', '2000-01-01T00:00:00Z'], env)).length, 0);
    assert.equal((await cli(['audit', 'list', '--from', 'yesterday'], env)).code, 2);
    assert.match((await cli(['audit', 'list', '--max', '2'], env)).stdout, /seq\s+│ time\s+│ action/);

    assert.match((await cli(['retention', 'set', '30'], env)).stdout, /app default: faces older than 30 day/);
    assert.equal(json(await cli(['retention', 'set', '7', '--group', 'consent', '--json'], env)).retentionDays, 7);
    assert.deepEqual(json(await cli(['retention', 'show', '--json'], env)), { defaultRetentionDays: 30, groups: [{ groupId: 'consent', retentionDays: 7 }] });
    assert.match((await cli(['retention', 'show'], env)).stdout, /\(app default\)\s+│ 30[\s\S]*consent\s+│ 7/);
    assert.equal((await cli(['retention', 'set', '0'], env)).code, 2);
    assert.match((await cli(['retention', 'set', '7', '--group', 'missing'], env)).stderr, /resultCode -40030/);
    await cli(['retention', 'clear', '--group', 'consent'], env);
    assert.match((await cli(['retention', 'clear'], env)).stdout, /app default: retention period cleared/);
    assert.deepEqual(json(await cli(['retention', 'show', '--json'], env)), { groups: [] });
    assert.match((await cli(['subjects', 'show', 'x', '--secret-key', 'wrong'], env)).stderr, /resultCode -41005/);
  });

  test('index: Ctrl-C finishes the photo in flight, writes the report, exits 130; the next run completes', async () => {
    const folder = await photoFolder();
    const state = join(folder, '.facerec-index-ctrl-c.jsonl');
    const report = join(scratch, 'ctrl-c.json');
    const args = ['index', folder, '--group', 'ctrl-c', '--external-id-from', 'filename', '--concurrency', '1', '--report', report];
    const first = spawnCli(args, env);
    await waitFor(() => journalEntries(state).length >= 1, 'the first photo');
    first.child.kill('SIGINT');
    const r1 = await first.done;
    assert.equal(r1.code, 130, r1.stderr);
    const partial = JSON.parse(readFileSync(report, 'utf8'));
    assert.equal(partial.stoppedEarly, 'interrupted');
    assert.ok(partial.totals.notAttempted > 0);
    assert.equal(partial.totals.added + partial.totals.noFace, journalEntries(state).length, 'every photo attempted was finished and recorded');
    assertTotalsAddUp(partial.totals);

    const full = JSON.parse((await cli([...args, '--json', '--concurrency', '3'], env)).stdout);
    assert.equal(full.stoppedEarly, undefined);
    assert.equal(full.totals.notAttempted, 0);
    assert.equal(full.totals.skipped, partial.totals.added, 'what the first run registered is not registered again');
    assertTotalsAddUp(full.totals);
    assert.equal(json(await cli(['faces', 'list', 'ctrl-c', '--json'], env)).length, FACE_PHOTOS);
    rmSync(folder, { recursive: true, force: true });
  });
  test('index: the report goes beside the state file, or where --report says, and the path is printed', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'facerec-photos-'));
    copyFileSync(fixturePath('sample1.jpg'), join(folder, 'sample1.jpg'));
    const elsewhere = mkdtempSync(join(tmpdir(), 'facerec-cwd-'));
    try {
      const byDefault = await cli(['index', folder, '--group', 'where'], env, elsewhere);
      assert.equal(byDefault.code, 0, byDefault.stderr);
      const besideState = join(folder, 'facerec-index-where-report.json');
      assert.equal(JSON.parse(readFileSync(besideState, 'utf8')).totals.added, 1);
      assert.ok(byDefault.stdout.includes(`report: ${besideState}`), byDefault.stdout);
      assert.equal(existsSync(join(elsewhere, 'facerec-index-where-report.json')), false, 'nothing in the working directory');

      const stateDir = join(scratch, 'state');
      mkdirSync(stateDir);
      await cli(['index', folder, '--group', 'where', '--state', join(stateDir, 'where.jsonl')], env, elsewhere);
      assert.ok(existsSync(join(stateDir, 'facerec-index-where-report.json')), 'beside a --state file');

      const chosen = join(scratch, 'chosen.csv');
      const asked = await cli(['index', folder, '--group', 'where', '--report', chosen, '--json'], env, elsewhere);
      assert.match(readFileSync(chosen, 'utf8'), /^file,status,resultCode,message,detail\r\n/);
      assert.ok(asked.stderr.includes(`report: ${chosen}`), '--json keeps stdout for the report and names the file on stderr');
      assert.equal(JSON.parse(asked.stdout).totals.skipped, 1);
    } finally {
      rmSync(folder, { recursive: true, force: true });
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  test('index exit codes: 0 all registered, 3 some photos not registered, 1 the run failed, 2 usage', async () => {
    const folder = mkdtempSync(join(tmpdir(), 'facerec-photos-'));
    copyFileSync(fixturePath('sample1.jpg'), join(folder, 'sample1.jpg'));
    copyFileSync(fixturePath('sample2.jpg'), join(folder, 'sample2.jpg'));
    try {
      const allGood = await cli(['index', folder, '--group', 'codes'], env);
      assert.equal(allGood.code, 0, allGood.stderr);
      assert.equal((await cli(['index', folder, '--group', 'codes'], env)).code, 0, 'all done before is done');

      writeFileSync(join(folder, 'scan.jpg'), 'not an image, whatever the name says');
      const oneNotImage = await cli(['index', folder, '--group', 'codes', '--json'], env);
      assert.equal(oneNotImage.code, 3, oneNotImage.stderr);
      const report = JSON.parse(oneNotImage.stdout);
      assert.equal(report.stoppedEarly, undefined);
      assert.deepEqual(report.errors.map((e: any) => e.file), ['scan.jpg']);
      assert.equal(report.totals.skipped, 2);

      const closed = createServer();
      await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
      const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
      await new Promise((r) => closed.close(r));
      const unreachable = await cli(['index', folder, '--group', 'codes'], { ...env, FACEREC_URL: deadUrl });
      assert.equal(unreachable.code, 1, unreachable.stderr);
      assert.match(unreachable.stderr, /ECONNREFUSED/);
      const refusedKeys = await cli(['index', folder, '--group', 'codes', '--secret-key', 'wrong'], env);
      assert.equal(refusedKeys.code, 1, refusedKeys.stderr);
      assert.match(refusedKeys.stderr, /resultCode -41005/);

      assert.equal((await cli(['index', folder], env)).code, 2, 'no --group');
      assert.equal((await cli(['index', join(folder, 'missing'), '--group', 'codes'], env)).code, 2, 'no such folder');
      assert.equal((await cli(['index', folder, '--group', 'codes', '--concurrency', '0'], env)).code, 2, 'bad value');
      assert.equal((await cli(['no-such-command'], env)).code, 2);
      const help = await cli(['index', '--help']);
      assert.equal(help.code, 0);
      assert.match(help.stdout, /Exit codes:[\s\S]*\b3\b.*some photos were not registered/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});

describe('facerec CLI in-process on a data dir', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'facerec-cli-data-'));
  const scratch = mkdtempSync(join(tmpdir(), 'facerec-cli-'));
  const env = { FACEREC_DATA_DIR: dataDir, FACEREC_MASTER_KEY: '22'.repeat(32) };
  after(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  test('--version prints the package version and exits 0', async () => {
    const r = await cli(['--version'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version);
  });

  test('the first command on an empty data dir creates an app and works as it', async () => {
    const r = await cli(['groups', 'create', 'first'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /created the first app[\s\S]*appKey:\s+\S+[\s\S]*secretKey:\s+\S+/);
    const apps = json(await cli(['apps', 'list', '--json'], env));
    assert.equal(apps.length, 1);
    assert.deepEqual(json(await cli(['groups', 'list', '--json', '--app-key', apps[0].appKey], env)), [{ groupId: 'first' }]);
    const unknown = await cli(['groups', 'list', '--app-key', 'nobody'], env);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /no app nobody/);
  });

  test('privacy commands work in-process too, on the data dir\'s app', async () => {
    await cli(['groups', 'create', 'inproc-privacy'], env);
    json(await cli(['faces', 'add', 'inproc-privacy', fixturePath('sample1.jpg'), '--external-id', 'local-subject', '--consent-ref', 'paper-form-1', '--json'], env));
    assert.equal(json(await cli(['subjects', 'show', 'local-subject', '--json'], env)).faces[0].consentRef, 'paper-form-1');
    assert.equal(json(await cli(['subjects', 'erase', 'local-subject', '--json'], env)).deletedFaceCount, 1);
    assert.deepEqual(json(await cli(['audit', 'list', '--external-id', 'local-subject', '--json'], env)).map((e: any) => e.action), ['register', 'export', 'erase']);
    assert.equal(json(await cli(['audit', 'verify', '--json'], env)).ok, true);
    json(await cli(['retention', 'set', '90', '--json'], env));
    assert.equal(json(await cli(['retention', 'show', '--json'], env)).defaultRetentionDays, 90);
  });

  test('index: killed midway, resumed without duplicates; a lost state file does not duplicate either', async () => {
    const folder = await photoFolder();
    const state = join(folder, '.facerec-index-people.jsonl');
    const report = join(scratch, 'people.json');
    const args = ['index', folder, '--group', 'people', '--external-id-from', 'filename', '--concurrency', '1', '--report', report];

    // 1. Killed without warning after two photos: no report, a state file with two photos done.
    const first = spawnCli(args, env);
    await waitFor(() => journalEntries(state).length >= 2, 'two photos done');
    first.child.kill('SIGKILL');
    const r1 = await first.done;
    assert.equal(r1.signal, 'SIGKILL');
    const doneBefore = journalEntries(state).length;
    assert.ok(doneBefore < 7, `the run was interrupted before the end (${doneBefore} done)`);
    const registeredBefore = registeredEntries(state);
    assert.equal(existsSync(report), false);

    // 2. Resumed: the rest is done, the report names the photo without a face and the corrupt one.
    const r2 = await cli(args, env);
    assert.equal(r2.code, 3, 'exit 3: through the folder, but one photo without a face and one not an image');
    assert.match(r2.stdout, /error corrupt\.jpg: InvalidImageFileException \(resultCode -45080\): \S/, 'with the server\'s reason');
    const rep = JSON.parse(readFileSync(report, 'utf8'));
    assert.equal(rep.totals.files, 8, 'JPEG and PNG only, in subfolders too');
    assert.equal(rep.totals.skipped, registeredBefore);
    assert.equal(rep.totals.added, FACE_PHOTOS - registeredBefore);
    assert.equal(rep.totals.notAttempted, 0);
    assertTotalsAddUp(rep.totals);
    assert.deepEqual(rep.noFace, [{ file: 'blank.png', reason: 'no face found' }]);
    assert.equal(rep.errors.length, 1);
    assert.deepEqual({ ...rep.errors[0], detail: undefined }, { file: 'corrupt.jpg', resultCode: -45080, resultMessage: 'InvalidImageFileException', detail: undefined });
    assert.match(rep.errors[0].detail, /JPEG|image/i, 'the report says why, as the server did');

    const faces = async () => json(await cli(['faces', 'list', 'people', '--json'], env));
    const afterResume = await faces();
    assert.equal(afterResume.length, FACE_PHOTOS, 'one face per photo, none twice');
    const ids = afterResume.map((f: any) => f.externalImageId).sort();
    assert.equal(new Set(ids).size, FACE_PHOTOS);
    assert.ok(ids.includes('sample1.jpg'));
    assert.ok(ids.every((id: string) => /^[a-zA-Z0-9_.\-:]{1,255}$/.test(id)), ids.join());
    assert.ok(ids.includes(externalIdFor('more/sample 3.jpg', 'filename')));

    // 3. The state file is lost: photos already registered are found by externalImageId, not added again.
    // Two engine worker threads this time, started from outside the project directory.
    rmSync(state);
    const csv = join(scratch, 'people.csv');
    const r3 = await cli([...args.slice(0, -1), csv, '--concurrency', '2'], env, scratch);
    assert.equal(r3.code, 3);
    assert.match(r3.stdout, /0 registered now \(0 faces\), 6 done before, 1 without a face, 1 errors/);
    assert.equal(readFileSync(csv, 'utf8'), 'file,status,resultCode,message,detail\r\nblank.png,no-face,,no face found,\r\n' +
      'corrupt.jpg,error,-45080,InvalidImageFileException,the JPEG header cannot be read; the file is damaged or cut short\r\n');
    assert.equal((await faces()).length, FACE_PHOTOS);
    rmSync(folder, { recursive: true, force: true });
  });
});

describe('index building blocks', () => {
  test('externalImageIds keep safe names and make changed ones unique', () => {
    assert.equal(externalIdFor('a/b/alice-01.jpg', 'filename'), 'alice-01.jpg');
    assert.equal(externalIdFor('a/b/alice-01.jpg', 'path'), 'a:b:alice-01.jpg');
    const kim = externalIdFor('김철수.jpg', 'filename');
    const lee = externalIdFor('이영희.jpg', 'filename');
    assert.match(kim, /^___[_][0-9a-f]{8}\.jpg$/);
    assert.notEqual(kim, lee);
    const long = externalIdFor('x'.repeat(300) + '.png', 'filename');
    assert.equal(long.length, 255);
    assert.match(long, /_[0-9a-f]{8}\.png$/);
  });

  test('photos over 3 MB are re-encoded to fit, upright; unreadable ones are not sent', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'facerec-big-'));
    try {
      const big = join(dir, 'big.jpg');
      // Stored sideways with EXIF orientation 6, as phones do.
      await sharp(fixturePath('sample1.jpg')).resize(5400).jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toFile(big);
      const source = await sharp(big).metadata();
      assert.ok(readFileSync(big).length > MAX_UPLOAD_BYTES);
      const bytes = (await bytesForUpload(big))!;
      assert.ok(bytes.length <= MAX_UPLOAD_BYTES);
      const sent = await sharp(bytes).metadata();
      assert.equal(sent.orientation, undefined);
      assert.ok(Math.abs(sent.width! / sent.height! - source.height! / source.width!) < 0.01, 'rotated as displayed');
      const small = fixturePath('sample2.jpg');
      assert.deepEqual(await bytesForUpload(small), new Uint8Array(readFileSync(small)), 'small photos go as they are');
      const noise = join(dir, 'noise.jpg');
      writeFileSync(noise, Buffer.alloc(MAX_UPLOAD_BYTES + 1, 7));
      assert.equal(await bytesForUpload(noise), undefined);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('the state file survives a torn last line and refuses another group', () => {
    const dir = mkdtempSync(join(tmpdir(), 'facerec-journal-'));
    const path = join(dir, 'state.jsonl');
    const header: JournalHeader = { kind: 'facerec-index-state', version: 1, target: 'file:///d', appKey: 'k', groupId: 'g', groupCreateTime: '2024-01-01T00:00:00' };
    const photo = { path: '/p/a.jpg', rel: 'a.jpg', size: 10, mtimeMs: 5 };
    const { journal } = IndexJournal.open(path, header);
    journal.record({ file: 'a.jpg', size: 10, mtimeMs: 5, outcome: 'added', faceIds: ['f1'] });
    journal.close();
    appendFileSync(path, '{"file":"b.jpg","si'); // a write cut short

    const reopened = IndexJournal.open(path, header);
    assert.equal(reopened.restarted, false);
    assert.ok(reopened.journal.isDone(photo));
    assert.equal(reopened.journal.isDone({ ...photo, mtimeMs: 6 }), false, 'a changed file is done again');
    reopened.journal.record({ file: 'c.jpg', size: 1, mtimeMs: 1, outcome: 'no-face', faceIds: [] });
    reopened.journal.close();
    assert.deepEqual(journalEntries(path).map((l) => JSON.parse(l).file), ['a.jpg', 'c.jpg']);

    assert.throws(() => IndexJournal.open(path, { ...header, groupId: 'other' }), /--state/);
    const recreated = IndexJournal.open(path, { ...header, groupCreateTime: '2024-02-02T00:00:00' });
    assert.equal(recreated.restarted, true, 'a group created again starts over');
    assert.equal(recreated.journal.isDone(photo), false);
    recreated.journal.close();
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('bin/facerec.mjs', () => {
  /** A stand-in project: the real bin and stamp module, a src/ and a dist/ that say which one ran. */
  function standIn(): string {
    const root = mkdtempSync(join(tmpdir(), 'facerec-bin-'));
    for (const dir of ['bin', 'scripts', 'src/cli', 'dist/src/cli']) mkdirSync(join(root, dir), { recursive: true });
    copyFileSync(BIN, join(root, 'bin', 'facerec.mjs'));
    copyFileSync(join(ROOT, 'scripts', 'build-stamp.mjs'), join(root, 'scripts', 'build-stamp.mjs'));
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules')); // tsx, for the sources
    writeFileSync(join(root, 'package.json'), '{ "type": "module" }\n');
    for (const f of ['tsconfig.json', 'tsconfig.build.json']) writeFileSync(join(root, f), '{}\n');
    writeFileSync(join(root, 'src', 'cli', 'main.ts'), "const from: string = 'TypeScript sources';\nconsole.log(from);\n");
    writeFileSync(join(root, 'dist', 'src', 'cli', 'main.js'), "console.log('compiled JS');\n");
    return root;
  }

  test('runs the compiled CLI while dist/ matches src/, the TypeScript sources otherwise', async () => {
    const root = standIn();
    const { sourceStamp, writeStamp } = await import(new URL('../scripts/build-stamp.mjs', import.meta.url).href);
    const stamp = () => writeStamp(root, sourceStamp(root));
    const run = async () => {
      const child = spawn(process.execPath, [join(root, 'bin', 'facerec.mjs')], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout!.on('data', (d) => (out += d));
      await new Promise((r) => child.on('close', r));
      return out.trim();
    };
    try {
      assert.equal(await run(), 'TypeScript sources', 'never built');
      stamp();
      assert.equal(await run(), 'compiled JS', 'built from the sources as they are');

      const later = new Date(Date.now() + 60_000);
      utimesSync(join(root, 'src', 'cli', 'main.ts'), later, later);
      assert.equal(await run(), 'TypeScript sources', 'a source edited since the build');

      stamp();
      assert.equal(await run(), 'compiled JS');
      const earlier = new Date(Date.now() - 3_600_000);
      writeFileSync(join(root, 'src', 'cli', 'extra.ts'), 'export {};\n');
      utimesSync(join(root, 'src', 'cli', 'extra.ts'), earlier, earlier);
      assert.equal(await run(), 'TypeScript sources', 'a source added since the build, however old');

      stamp();
      rmSync(join(root, 'dist', 'src', 'cli', 'main.js'));
      assert.equal(await run(), 'TypeScript sources', 'no compiled CLI');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
