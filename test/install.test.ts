// A fresh `npm ci` prints no warning of ours: no EBADENGINE from the dependency tree, no unknown
// project config, and every dependency install script reviewed in `allowScripts`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import semver from 'semver';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8'));
const lockedPackages = Object.entries(lock.packages as Record<string, any>).filter(([path]) => path !== '');
const nameOf = (lockPath: string) => lockPath.slice(lockPath.lastIndexOf('node_modules/') + 'node_modules/'.length);

/** The Node majors the README promises; package.json's engines must say the same. */
const SUPPORTED_MAJORS = [20, 22, 24];

/**
 * npm's own view of an install, without its cost: `npm ci --dry-run` resolves the tree from the lockfile and
 * runs npm's engine and config checks, offline and without scripts (~2 s). Run in a copy of the manifest,
 * lockfile and project .npmrc, with an empty cache, so nothing already installed or cached hides a warning.
 * The npm_* variables `npm test` exports are dropped: they belong to the outer npm, not to a user's shell.
 */
async function npmCiDryRun(): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'facerec-npm-ci-'));
  try {
    for (const file of ['package.json', 'package-lock.json', '.npmrc']) {
      if (existsSync(join(ROOT, file))) copyFileSync(join(ROOT, file), join(dir, file));
    }
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
    const args = ['ci', '--dry-run', '--ignore-scripts', '--offline', '--no-audit', '--no-fund', '--cache', join(dir, '.cache')];
    const { stdout, stderr } = await promisify(execFile)('npm', args, { cwd: dir, env, maxBuffer: 16 << 20 });
    return stdout + stderr;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a fresh npm ci prints no EBADENGINE and no unknown-config warning', async () => {
  const output = await npmCiDryRun();
  assert.doesNotMatch(output, /EBADENGINE/, output);
  assert.doesNotMatch(output, /Unknown (project|env) config/, output);
});

test('engines names exactly the Node majors the README supports', () => {
  const range = pkg.engines.node as string;
  for (const major of SUPPORTED_MAJORS) assert.ok(semver.intersects(range, `^${major}.0.0`), `engines.node ${range} leaves out Node ${major}`);
  for (const major of [18, 19, 21, 23, 25]) assert.ok(!semver.intersects(range, `^${major}.0.0`), `engines.node ${range} claims Node ${major}`);
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(range), `README does not state the engines range ${range}`);
});

// The dry run above only sees this machine's Node and platform; this covers every supported Node and every
// platform-specific package in the lockfile.
test('every package in the lockfile accepts every Node version package.json supports', () => {
  const ours = pkg.engines.node as string;
  const refusing = lockedPackages
    .filter(([, entry]) => typeof entry.engines?.node === 'string' && !semver.subset(ours, entry.engines.node))
    .map(([path, entry]) => `${nameOf(path)}@${entry.version} wants node ${entry.engines.node}`);
  assert.deepEqual(refusing, []);
});

test('every dependency install script is reviewed in allowScripts; onnxruntime-node may not download', () => {
  const policy = pkg.allowScripts as Record<string, boolean>;
  const unreviewed = [...new Set(lockedPackages.filter(([, e]) => e.hasInstallScript).map(([path]) => nameOf(path)))].filter(
    (name) => typeof policy[name] !== 'boolean',
  );
  assert.deepEqual(unreviewed, []);
  // Its postinstall fetches CUDA providers from NuGet; the CPU runtime we use is in the npm tarball.
  assert.equal(policy['onnxruntime-node'], false);
  assert.ok(existsSync(join(ROOT, 'node_modules/onnxruntime-node/bin/napi-v6', process.platform, process.arch)));
});

// `npx facerec` links this project into npm's npx cache and runs its postinstall again; models,
// console and CLI build are there already, so it must do nothing (it used to cost 13 s).
test('the postinstall does nothing when npx links the installed project', async () => {
  const env = { ...process.env, npm_command: 'exec' };
  const { stdout, stderr } = await promisify(execFile)(process.execPath, [join(ROOT, 'scripts', 'postinstall.mjs')], { cwd: ROOT, env });
  assert.equal(stdout + stderr, '');
});
