// Whether dist/ (the tsc build of src/) still matches src/: `bin/facerec.mjs` runs the build when it
// does, and the TypeScript sources through tsx when it does not, so an edit is never run stale.
// A stamp of the sources (how many, newest mtime) is written before compiling and compared on
// each start: a few milliseconds of stat calls, against seconds of on-the-fly compilation.
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** What the build is made from: every file under src/ and the compiler settings. */
function sourceFiles(root) {
  const files = [join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json')];
  for (const entry of readdirSync(join(root, 'src'), { recursive: true, withFileTypes: true })) {
    if (entry.isFile()) files.push(join(entry.parentPath, entry.name));
  }
  return files;
}

/** { files, newestMtimeMs } of the sources as they are now. */
export function sourceStamp(root) {
  const files = sourceFiles(root);
  return { files: files.length, newestMtimeMs: Math.max(...files.map((f) => statSync(f).mtimeMs)) };
}

export const stampPath = (root) => join(root, 'dist', 'build-stamp.json');
export const builtCliPath = (root) => join(root, 'dist', 'src', 'cli', 'main.js');

export function writeStamp(root, stamp) {
  writeFileSync(stampPath(root), JSON.stringify(stamp) + '\n');
}

/** True when dist/ was built from the sources as they are now (none added, removed or touched since). */
export function isBuildFresh(root) {
  try {
    if (!existsSync(builtCliPath(root))) return false;
    const built = JSON.parse(readFileSync(stampPath(root), 'utf8'));
    const now = sourceStamp(root);
    return built.files === now.files && now.newestMtimeMs <= built.newestMtimeMs;
  } catch {
    return false; // no stamp, unreadable stamp or sources: run from source
  }
}
