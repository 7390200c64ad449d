#!/usr/bin/env node
// `npx facerec …`: runs the compiled CLI (dist/, built at install time by scripts/build.mjs) when it
// matches the sources, else the TypeScript sources through tsx, as `npm start` does: the same
// behaviour either way, but tsx compiling the CLI on first use costs seconds.
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { builtCliPath, isBuildFresh } from '../scripts/build-stamp.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

if (isBuildFresh(root)) {
  await import(pathToFileURL(builtCliPath(root)).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
}
