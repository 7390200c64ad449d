import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { decodeImage, sniffFormat } from '../src/engine/decode.js';
import { ImageError, type ImageErrorKind } from '../src/engine/errors.js';
import { fixture } from './support/fixtures.js';

const rejectsWith = (p: Promise<unknown>, kind: ImageErrorKind) =>
  assert.rejects(p, (e: unknown) => e instanceof ImageError && e.kind === kind);

/** A PNG whose header declares w×h but carries one tiny compressed row: a decompression bomb's shape. */
function pngDeclaring(w: number, h: number): Uint8Array {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body) >>> 0);
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const sig = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return new Uint8Array(Buffer.concat([sig, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(1 + 3 * 16))), chunk('IEND', Buffer.alloc(0))]));
}

function crc32(buf: Buffer): number {
  let c = ~0;
  for (const byte of buf) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c;
}

test('format is sniffed from bytes, not trusted from names', () => {
  assert.equal(sniffFormat(fixture('sample1.jpg')), 'jpeg');
  assert.equal(sniffFormat(new TextEncoder().encode('GIF89a....')), undefined);
});

test('bad inputs fail with typed errors', async () => {
  await rejectsWith(decodeImage(new Uint8Array(0)), 'empty');
  await rejectsWith(decodeImage(new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg"/>')), 'unsupported-format');
  const gif = await sharp(fixture('sample1.jpg')).gif().toBuffer();
  await rejectsWith(decodeImage(new Uint8Array(gif)), 'unsupported-format');
  const webp = await sharp(fixture('sample1.jpg')).webp().toBuffer();
  await rejectsWith(decodeImage(new Uint8Array(webp)), 'unsupported-format');
  const tiny = await sharp(fixture('sample1.jpg')).resize(79, 200, { fit: 'fill' }).png().toBuffer();
  await rejectsWith(decodeImage(new Uint8Array(tiny)), 'too-small');
  await rejectsWith(decodeImage(pngDeclaring(30000, 30000)), 'too-many-pixels');
  const truncated = fixture('sample1.jpg').subarray(0, 200);
  await rejectsWith(decodeImage(truncated), 'decode-failed');
});

test('an image of exactly 80 px a side is accepted', async () => {
  const ok = await sharp(fixture('sample1.jpg')).resize(80, 80, { fit: 'fill' }).png().toBuffer();
  const d = await decodeImage(new Uint8Array(ok));
  assert.equal(d.image.width, 80);
  assert.equal(d.image.data.length, 80 * 80 * 3);
});

test('very large photos are decoded shrunk but report their original size', async () => {
  const big = await sharp(fixture('sample1.jpg')).resize(5000).jpeg().toBuffer();
  const d = await decodeImage(new Uint8Array(big));
  assert.equal(d.originalWidth, 5000);
  assert.ok(d.image.width <= 4096);
});
