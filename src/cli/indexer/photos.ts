import { opendir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';

export interface PhotoFile {
  path: string;
  /** Relative to the indexed folder, with `/` separators: the key in the state file and the report. */
  rel: string;
  size: number;
  mtimeMs: number;
}

/** Only JPEG and PNG are accepted by the API; other files are not photos to index. */
const PHOTO = /\.(jpe?g|png)$/i;

/**
 * Every JPEG/PNG under `folder`, sorted by path so that runs and resumes go in the same order.
 * Hidden files and folders (the state file among them) are skipped; symlinks are not followed.
 */
export async function findPhotos(folder: string): Promise<PhotoFile[]> {
  const found: PhotoFile[] = [];
  const walk = async (dir: string) => {
    for await (const entry of await opendir(dir)) {
      if (entry.name.startsWith('.')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && PHOTO.test(entry.name)) {
        const s = await stat(path);
        found.push({ path, rel: relative(folder, path).split(sep).join('/'), size: s.size, mtimeMs: Math.trunc(s.mtimeMs) });
      }
    }
  };
  await walk(folder);
  return found.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
