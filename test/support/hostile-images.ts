/**
 * Image bytes an attacker (or a broken client) might send: every format, colour model and
 * malformation the image endpoints must survive, each with the result codes the API documents
 * for it (docs/api-compatibility.md). Built deterministically from one fixture photo, so a run
 * with the same seed sends the same bytes.
 */
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { RESULT_CODES as C } from '../../src/domain/errors.js';
import { fixture } from './fixtures.js';

export interface HostileImage {
  bytes: Uint8Array;
  /**
   * What an image endpoint may answer for this image on its own. `decodable` images answer 0,
   * or -40000 where a face is required (search, verify, compare's source) and none was found.
   */
  expect: readonly number[] | 'decodable';
}

export type HostileImages = Record<string, HostileImage>;

const decodable = (bytes: Uint8Array | Buffer): HostileImage => ({ bytes: new Uint8Array(bytes), expect: 'decodable' });
const refused = (bytes: Uint8Array | Buffer, ...codes: number[]): HostileImage => ({ bytes: new Uint8Array(bytes), expect: codes });
const text = (s: string) => new TextEncoder().encode(s);

/** The photo every valid variant derives from: three faces, small enough to analyse quickly. */
export async function basePhoto(width = 640): Promise<Buffer> {
  return sharp(fixture('sample1.jpg')).resize(width).jpeg({ quality: 85 }).toBuffer();
}

/**
 * The fixed set. Real decompression bombs (pixels that actually inflate) are opt-in: they cost a
 * few hundred MB to build and decode, which the quick test run does not need — the declared-size
 * bombs already exercise the pre-decode pixel limit.
 */
export async function hostileImages(options: { realBombs?: boolean } = {}): Promise<HostileImages> {
  const face = await basePhoto();
  const img = () => sharp(face);
  const small = await img().resize(120).jpeg().toBuffer();

  const images: HostileImages = {
    // Valid encodings and colour models: all must decode to 8-bit sRGB and be analysed.
    jpeg: decodable(face),
    png: decodable(await img().png().toBuffer()),
    jpegProgressive: decodable(await img().jpeg({ progressive: true }).toBuffer()),
    pngInterlaced: decodable(await img().png({ progressive: true }).toBuffer()),
    pngPalette: decodable(await img().png({ palette: true }).toBuffer()),
    cmykJpeg: decodable(await img().toColourspace('cmyk').jpeg().toBuffer()),
    png16bit: decodable(await img().toColourspace('rgb16').png().toBuffer()),
    grayJpeg: decodable(await img().grayscale().jpeg().toBuffer()),
    grayPng16bit: decodable(await img().grayscale().toColourspace('grey16').png().toBuffer()),
    alphaPng: decodable(await img().ensureAlpha(0.5).png().toBuffer()),
    transparentPng: decodable(await img().ensureAlpha(0).png().toBuffer()),
    grayAlphaPng: decodable(await img().grayscale().ensureAlpha(0.7).png().toBuffer()),
    exifRotated6: decodable(await img().withMetadata({ orientation: 6 }).jpeg().toBuffer()),
    exifRotated3: decodable(await img().withMetadata({ orientation: 3 }).jpeg().toBuffer()),
    exifRotated8: decodable(await img().withMetadata({ orientation: 8 }).jpeg().toBuffer()),
    exactly80px: decodable(await img().resize(80, 80, { fit: 'fill' }).png().toBuffer()),
    // The size NHN's spoofing API expects with aligned=true.
    aligned224: decodable(await img().resize(224, 224, { fit: 'cover' }).jpeg().toBuffer()),

    // Sizes: NHN's 80 px minimum (after EXIF rotation), the pixel limit, the byte limit.
    zeroBytes: refused(new Uint8Array(0), C.InvalidImageBytesException),
    onePixelPng: refused(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).png().toBuffer(), C.InvalidImageSizeException),
    onePixelJpeg: refused(await sharp({ create: { width: 1, height: 1, channels: 3, background: '#808080' } }).jpeg().toBuffer(), C.InvalidImageSizeException),
    narrow79px: refused(await img().resize(79, 200, { fit: 'fill' }).png().toBuffer(), C.InvalidImageSizeException),
    // 200x79 stored, but EXIF turns it into 79x200: still too narrow.
    narrowAfterExif: refused(await img().resize(200, 79, { fit: 'fill' }).withMetadata({ orientation: 6 }).jpeg().toBuffer(), C.InvalidImageSizeException),
    bombPngDeclared: refused(pngDeclaring(30000, 30000), C.InvalidImageSizeException),
    bombJpegDeclared: refused(jpegDeclaring(small, 30000, 30000), C.InvalidImageSizeException),
    overByteLimit: refused(await noisePng(1000, 1010), C.ImageTooLargeException),

    // Not JPEG or PNG by their bytes, whatever they claim to be.
    gif: refused(await img().gif().toBuffer(), C.InvalidImageFormatException),
    webp: refused(await img().webp().toBuffer(), C.InvalidImageFormatException),
    tiff: refused(await img().tiff().toBuffer(), C.InvalidImageFormatException),
    bmp: refused(bmp24(96, 96), C.InvalidImageFormatException),
    heic: refused(isoBmff('heic'), C.InvalidImageFormatException),
    avif: refused(isoBmff('avif'), C.InvalidImageFormatException),
    svg: refused(text('<svg xmlns="http://www.w3.org/2000/svg" width="30000" height="30000"><rect width="100%" height="100%"/></svg>'), C.InvalidImageFormatException),
    pdf: refused(text('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n'), C.InvalidImageFormatException),
    plainText: refused(text('this is not an image, it only has a .jpg name'), C.InvalidImageFormatException),
    html: refused(text('<!doctype html><html><body><img src=x onerror=alert(1)></body></html>'), C.InvalidImageFormatException),
    jsonText: refused(text('{"image":{"bytes":"AAAA"}}'), C.InvalidImageFormatException),
    nulBytes: refused(new Uint8Array(4096), C.InvalidImageFormatException),
    twoBytesOfJpeg: refused(Uint8Array.of(0xff, 0xd8), C.InvalidImageFormatException),

    // Magic bytes right, content wrong: -45080.
    jpegMagicThenText: refused(concat(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0), text('hello, this is text')), C.InvalidImageFileException),
    pngMagicThenText: refused(concat(PNG_SIGNATURE, text('hello, this is text')), C.InvalidImageFileException),
    jpegSoiEoiOnly: refused(Uint8Array.of(0xff, 0xd8, 0xff, 0xd9), C.InvalidImageFileException),
    jpegHeaderOnly: refused(face.subarray(0, 160), C.InvalidImageFileException),
    pngSignatureOnly: refused(PNG_SIGNATURE, C.InvalidImageFileException),
    pngBadIhdrCrc: refused(corruptPngIhdrCrc(await img().png().toBuffer()), C.InvalidImageFileException),
    pngZeroSize: refused(pngDeclaring(0, 0), C.InvalidImageFileException, C.InvalidImageSizeException),
    // Truncated and bit-flipped after the header: libvips may still decode part of it.
    jpegTruncatedHalf: { bytes: face.subarray(0, face.length >> 1), expect: [0, C.InvalidParam, C.InvalidImageFileException] },
    pngTruncatedHalf: truncatedPng(await img().png().toBuffer()),
    jpegBitFlipped: { bytes: flipBits(face, 0x5eed, 64, 600), expect: [0, C.InvalidParam, C.InvalidImageFileException, C.InvalidImageSizeException] },
  };
  if (options.realBombs) {
    // 30000x30000 1-bit PNG of zeros: ~110 KB that would inflate to 2.7 GB as RGB.
    images.bombPngReal = refused(pngOfZeros(30000, 30000), C.InvalidImageSizeException);
    // Just under the 50 MP limit, so it is really decoded (and shrunk): time and memory must stay bounded.
    images.nearLimitPngReal = decodable(pngOfZeros(7000, 7000));
  }
  return images;
}

// ── builders ─────────────────────────────────────────────────────────────────

const PNG_SIGNATURE = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a);

export function concat(...parts: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const byte of bytes) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(8 + data.length + 4);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

function pngIhdr(width: number, height: number, bitDepth: number, colourType: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([bitDepth, colourType, 0, 0, 0], 8);
  return pngChunk('IHDR', ihdr);
}

/** A PNG whose header declares width×height but whose data is one tiny row: a bomb's shape. */
export function pngDeclaring(width: number, height: number): Uint8Array {
  const idat = pngChunk('IDAT', deflateSync(Buffer.alloc(1 + 3 * 16)));
  return concat(PNG_SIGNATURE, pngIhdr(width, height, 8, 2), idat, pngChunk('IEND', new Uint8Array(0)));
}

/** A real bomb: a 1-bit greyscale PNG of zeros, which deflate squeezes about 1000:1. */
export function pngOfZeros(width: number, height: number): Uint8Array {
  const row = 1 + Math.ceil(width / 8);
  const idat = pngChunk('IDAT', deflateSync(Buffer.alloc(row * height), { level: 9 }));
  return concat(PNG_SIGNATURE, pngIhdr(width, height, 1, 0), idat, pngChunk('IEND', new Uint8Array(0)));
}

/** The JPEG with its frame header (SOFn) rewritten to declare width×height. */
export function jpegDeclaring(jpeg: Uint8Array, width: number, height: number): Uint8Array {
  const out = Buffer.from(jpeg);
  let at = 2;
  while (at + 4 < out.length && out[at] === 0xff) {
    const marker = out[at + 1];
    const length = out.readUInt16BE(at + 2);
    const isFrame = marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
    if (isFrame) {
      out.writeUInt16BE(height, at + 5);
      out.writeUInt16BE(width, at + 7);
      return new Uint8Array(out);
    }
    at += 2 + length;
  }
  throw new Error('no JPEG frame header found');
}

/** Deterministic noise, so PNG cannot compress it below the byte limit. */
async function noisePng(width: number, height: number): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  let x = 0x12345678;
  for (let i = 0; i < pixels.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    pixels[i] = x & 0xff;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } }).png({ compressionLevel: 0 }).toBuffer();
}

/** A 24-bit Windows bitmap, written by hand (sharp does not write BMP). */
function bmp24(width: number, height: number): Uint8Array {
  const rowBytes = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + rowBytes * height, 0x80);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(rowBytes * height, 34);
  return new Uint8Array(out);
}

/** The start of an ISO-BMFF image (HEIC, AVIF): `ftyp` box with the brand, then an empty `mdat`. */
function isoBmff(brand: string): Uint8Array {
  const ftyp = Buffer.alloc(24);
  ftyp.writeUInt32BE(24, 0);
  ftyp.write('ftyp', 4, 'latin1');
  ftyp.write(brand, 8, 'latin1');
  ftyp.write('mif1', 16, 'latin1');
  ftyp.write(brand, 20, 'latin1');
  const mdat = Buffer.alloc(64);
  mdat.writeUInt32BE(64, 0);
  mdat.write('mdat', 4, 'latin1');
  return concat(ftyp, mdat);
}

function corruptPngIhdrCrc(png: Buffer): Uint8Array {
  const out = Buffer.from(png);
  out[8 + 8 + 13] ^= 0xff; // first byte of IHDR's CRC
  return new Uint8Array(out);
}

/** Cut inside the image data: the header is intact, rows are missing. */
function truncatedPng(png: Buffer): HostileImage {
  return { bytes: new Uint8Array(png.subarray(0, png.length >> 1)), expect: [0, C.InvalidParam, C.InvalidImageFileException] };
}

/** `count` single-bit flips at positions from `from` on, chosen by a seeded xorshift. */
export function flipBits(bytes: Uint8Array, seed: number, count: number, from = 0): Uint8Array {
  const out = new Uint8Array(bytes);
  let x = seed | 1;
  for (let i = 0; i < count; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const at = from + ((x >>> 0) % Math.max(1, out.length - from));
    out[at] ^= 1 << ((x >>> 8) & 7);
  }
  return out;
}
