#!/usr/bin/env node
// What `npm ci` / `npm install` do after the dependencies: fetch and check the models, build the
// web console, compile src/ for a fast CLI.
//
// `npx facerec` in this folder finds no `facerec` in node_modules/.bin (npm never links a project's
// own bin there), so npm links the project into its npx cache and runs this script once more: that,
// not the CLI, was the 13 s of a first `npx facerec`. The project is installed already then, so
// there is nothing to do. (A facerec fetched by npx itself has no node_modules of its own, and runs
// every step.)
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (process.env.npm_command === 'exec' && existsSync(join(root, 'node_modules'))) process.exit(0);

for (const step of ['scripts/fetch-models.mjs', 'web/build.mjs', 'scripts/build.mjs']) {
  const run = spawnSync(process.execPath, [join(root, step)], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
