import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
// @ts-expect-error: a plain ESM build script without type declarations
import { hammingModuleSource, OUT } from '../scripts/build-wasm.mjs';

test('hamming-wasm.ts is hamming.wat compiled (run `npm run build:wasm` after editing the .wat)', async () => {
  assert.equal(readFileSync(OUT, 'utf8'), await hammingModuleSource());
});
