import sharp from 'sharp';
import { ImageError } from './errors.js';
import type { RgbImage } from './image.js';

export type ImageFormat = 'jpeg' | 'png';

export interface DecodeLimits {
  /** Refuse images whose shorter side (after EXIF rotation) is below this. NHN: 80 px. */
  minSide: number;
  /** Refuse images declaring more pixels than this before decoding a single one (bombs). */
  maxPixels: number;
  /**
   * Decode at most this long a side. Larger photos are shrunk while decoding (JPEG shrink-on-load
   * makes this cheap); faces big enough to matter survive, and memory per request stays bounded.
   */
  maxDecodedSide: number;
}

export const DEFAULT_DECODE_LIMITS: DecodeLimits = {
  minSide: 80,
  maxPixels: 50_000_000,
  maxDecodedSide: 4096,
};

export interface DecodedImage {
  image: RgbImage;
  format: ImageFormat;
  /** Size of the original after EXIF rotation; boxes are reported as fractions of this. */
  originalWidth: number;
  originalHeight: number;
}

const FORMAT_NAME: Record<ImageFormat, string> = { jpeg: 'JPEG', png: 'PNG' };

/** Format from magic bytes: a file's name or declared type is never trusted. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= 8 && png.every((b, i) => bytes[i] === b)) return 'png';
  return undefined;
}

export async function decodeImage(bytes: Uint8Array, limits: DecodeLimits = DEFAULT_DECODE_LIMITS): Promise<DecodedImage> {
  if (bytes.length === 0) throw new ImageError('empty', 'the image is empty (0 bytes)');
  const format = sniffFormat(bytes);
  if (!format) throw new ImageError('unsupported-format', 'the image is neither JPEG nor PNG (judged by its first bytes)');

  const input = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let meta: sharp.Metadata;
  try {
    // Header only: sharp's own pixel limit is off here so that we can name the limit ourselves.
    meta = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw new ImageError('decode-failed', `the ${FORMAT_NAME[format]} header cannot be read; the file is damaged or cut short`, (e as Error).message);
  }
  if (meta.format !== format) throw new ImageError('decode-failed', `the file starts like a ${FORMAT_NAME[format]} but does not read as one`, `sharp reads ${meta.format}`);
  if (!meta.width || !meta.height) throw new ImageError('decode-failed', `the ${FORMAT_NAME[format]} header gives no width or height`);
  if (meta.width * meta.height > limits.maxPixels) {
    throw new ImageError('too-many-pixels', `the image is ${meta.width}×${meta.height} px (${meta.width * meta.height} pixels); at most ${limits.maxPixels} pixels`);
  }
  // EXIF orientations 5-8 swap width and height.
  const swapped = (meta.orientation ?? 1) >= 5;
  const originalWidth = swapped ? meta.height : meta.width;
  const originalHeight = swapped ? meta.width : meta.height;
  if (Math.min(originalWidth, originalHeight) < limits.minSide) {
    throw new ImageError('too-small', `the image is ${originalWidth}×${originalHeight} px; at least ${limits.minSide} px a side`);
  }

  try {
    let pipeline = sharp(input, { limitInputPixels: limits.maxPixels, failOn: 'none' })
      .rotate()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb');
    if (Math.max(originalWidth, originalHeight) > limits.maxDecodedSide) {
      pipeline = pipeline.resize(limits.maxDecodedSide, limits.maxDecodedSide, { fit: 'inside' });
    }
    const { data, info } = await pipeline.removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return {
      image: { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) },
      format,
      originalWidth,
      originalHeight,
    };
  } catch (e) {
    throw new ImageError('decode-failed', `the ${FORMAT_NAME[format]} data is damaged or cut short and does not decode`, (e as Error).message);
  }
}
