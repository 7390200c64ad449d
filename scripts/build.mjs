#!/usr/bin/env node
// Compiles src/ into dist/ (`npm run build`, and at install time), so that `npx facerec` starts
// in well under a second instead of having tsx compile the CLI on first use. The sources stay
// the truth: bin/facerec.mjs runs dist/ only while the stamp written here matches src/.
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sourceStamp, stampPath, writeStamp } from './build-stamp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

let tscBin;
try {
  tscBin = require.resolve('typescript/bin/tsc');
} catch {
  // `npm ci --omit=dev`: no compiler; the CLI runs its sources through tsx (a dependency) instead.
  console.warn('facerec: typescript is not installed (devDependencies omitted), so the CLI runs from source (slower first start).');
  process.exit(0);
}

// Taken before compiling: a source edited while tsc runs makes the build stale, not silently fresh.
const stamp = sourceStamp(root);
rmSync(stampPath(root), { force: true });
const tsc = spawnSync(process.execPath, [tscBin, '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
if (tsc.status !== 0) {
  console.error('facerec: src/ does not compile (tsc -p tsconfig.build.json); the CLI will run from source');
  process.exit(1);
}
writeStamp(root, stamp);
console.log(`facerec: compiled src/ into ${join(root, 'dist')}`);
