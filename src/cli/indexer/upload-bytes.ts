import { readFile } from 'node:fs/promises';

/** NHN's documented per-image limit, which facerec enforces too (-45020 above it). */
export const MAX_UPLOAD_BYTES = 3_000_000;

/** Longest sides tried, in order, when a photo has to shrink; `undefined` keeps the original size. */
const SIDES = [undefined, 4096, 3072, 2048, 1600];

/**
 * The bytes to upload for a photo. Phone and camera photos are often over 3 MB, and a folder of
 * them would otherwise fail photo by photo; those are re-encoded as JPEG (EXIF orientation
 * applied, since the re-encoded file carries no metadata), at full size if that fits, else
 * smaller. Boxes come back as fractions of the image, so they hold for the original file too.
 * Photos within the limit are sent exactly as they are; `undefined` means too large to send.
 */
export async function bytesForUpload(path: string): Promise<Uint8Array | undefined> {
  const original = await readFile(path);
  if (original.length <= MAX_UPLOAD_BYTES) return new Uint8Array(original);
  // Loaded only for the photos that need it.
  const { default: sharp } = await import('sharp');
  for (const side of SIDES) {
    try {
      let img = sharp(original, { failOn: 'none' }).rotate();
      if (side) img = img.resize(side, side, { fit: 'inside', withoutEnlargement: true });
      const out = await img.jpeg({ quality: 90, mozjpeg: false }).toBuffer();
      if (out.length <= MAX_UPLOAD_BYTES) return new Uint8Array(out);
    } catch {
      break; // not an image sharp can read
    }
  }
  // Not sent: the server would refuse it (-45020), and far over its body limit it would cut the
  // connection, which looks like a server failure and would stop the whole run.
  return undefined;
}
