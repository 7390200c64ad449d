import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import sharp from 'sharp';

/**
 * The speed benches' inputs, made from the face-api demo photos (a devDependency), so they need no
 * evaluation data. Both are JPEG-encoded once and analysed from bytes, as a request would be.
 */
export interface BenchImage {
  label: string;
  bytes: Uint8Array;
}

function demoPhoto(name: string): Buffer {
  const require = createRequire(import.meta.url);
  const pkg = dirname(require.resolve('@vladmandic/face-api/package.json'));
  return readFileSync(join(pkg, 'demo', name));
}

/** 640×480 with one face: the right-hand face of sample1 at full resolution (~200 px), the others cropped out. */
export async function singleFace(): Promise<BenchImage> {
  const bytes = await sharp(demoPhoto('sample1.jpg')).extract({ left: 1280, top: 100, width: 640, height: 480 }).jpeg({ quality: 90 }).toBuffer();
  return { label: '640x480, 1 face', bytes: new Uint8Array(bytes) };
}

/** 1920×1080 group photo: sample5 resized to cover 1920×1080 (five faces found). */
export async function groupPhoto(): Promise<BenchImage> {
  const bytes = await sharp(demoPhoto('sample5.jpg')).resize(1920, 1080, { fit: 'cover' }).jpeg({ quality: 90 }).toBuffer();
  return { label: '1920x1080 group', bytes: new Uint8Array(bytes) };
}
