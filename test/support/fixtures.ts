import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
/** Demo photos shipped by the @vladmandic/face-api devDependency (real faces, MIT). */
const FACE_API_DEMO = join(dirname(require.resolve('@vladmandic/face-api/package.json')), 'demo');

export const fixturePath = (name: string): string => join(FACE_API_DEMO, name);
export const fixture = (name: string): Uint8Array => new Uint8Array(readFileSync(fixturePath(name)));
