/** A decoded image: 8-bit RGB, row-major, 3 bytes a pixel, orientation already applied. */
export interface RgbImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

export interface Point {
  x: number;
  y: number;
}

/** Axis-aligned box in pixels of the decoded image. */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}


/**
 * 2x3 affine map from output pixel (u, v) to source pixel:
 *   x = a*u + b*v + c,  y = d*u + e*v + f
 */
export type Affine = [number, number, number, number, number, number];

/**
 * Samples `src` through an affine map into a w×h RGB buffer with bilinear interpolation;
 * pixels outside the source read as black. Hand-written because every crop we need is a few
 * thousand pixels taken from an image that is already decoded: a round-trip through sharp per
 * face would re-run its pipeline and cost more than the sampling itself.
 */
export function warpAffine(src: RgbImage, map: Affine, w: number, h: number): Uint8Array {
  const out = new Uint8Array(w * h * 3);
  const { width: sw, height: sh, data } = src;
  const [a, b, c, d, e, f] = map;
  let o = 0;
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++, o += 3) {
      const x = a * u + b * v + c;
      const y = d * u + e * v + f;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      if (x0 < -1 || y0 < -1 || x0 >= sw || y0 >= sh) continue;
      const fx = x - x0;
      const fy = y - y0;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < sw && y0 + 1 < sh) {
        // All four taps inside (nearly every pixel of a face crop): no per-tap bounds tests.
        // Same arithmetic as the edge path below, so the same bytes.
        const i00 = (y0 * sw + x0) * 3;
        const i01 = i00 + sw * 3;
        for (let ch = 0; ch < 3; ch++) {
          const p00 = data[i00 + ch];
          const p01 = data[i01 + ch];
          const top = p00 + (data[i00 + 3 + ch] - p00) * fx;
          const bottom = p01 + (data[i01 + 3 + ch] - p01) * fx;
          out[o + ch] = Math.round(top + (bottom - top) * fy);
        }
        continue;
      }
      for (let ch = 0; ch < 3; ch++) {
        const p00 = x0 >= 0 && y0 >= 0 ? data[(y0 * sw + x0) * 3 + ch] : 0;
        const p10 = x0 + 1 < sw && y0 >= 0 ? data[(y0 * sw + x0 + 1) * 3 + ch] : 0;
        const p01 = x0 >= 0 && y0 + 1 < sh ? data[((y0 + 1) * sw + x0) * 3 + ch] : 0;
        const p11 = x0 + 1 < sw && y0 + 1 < sh ? data[((y0 + 1) * sw + x0 + 1) * 3 + ch] : 0;
        const top = p00 + (p10 - p00) * fx;
        const bottom = p01 + (p11 - p01) * fx;
        out[o + ch] = Math.round(top + (bottom - top) * fy);
      }
    }
  }
  return out;
}

/**
 * Crops the source rectangle [x, y, w, h] (may extend past the image) into an outW×outH buffer.
 * When shrinking by more than 2× the covered part of the source is box-averaged first so that
 * small model inputs do not alias. Only the blocks under the crop (plus a one-block margin for
 * the bilinear taps) are averaged: a face crop from a large photo must not pay for the photo.
 */
export function cropResize(src: RgbImage, x: number, y: number, w: number, h: number, outW: number, outH: number): Uint8Array {
  const shrink = Math.min(w / outW, h / outH);
  if (shrink <= 2) return warpAffine(src, scaleMap(x, y, w / outW, h / outH), outW, outH);
  const k = Math.floor(shrink);
  const blocksW = Math.floor(src.width / k);
  const blocksH = Math.floor(src.height / k);
  const bx0 = clampInt(Math.floor(x / k) - 1, 0, blocksW);
  const by0 = clampInt(Math.floor(y / k) - 1, 0, blocksH);
  const bx1 = clampInt(Math.ceil((x + w) / k) + 1, bx0, blocksW);
  const by1 = clampInt(Math.ceil((y + h) / k) + 1, by0, blocksH);
  if (bx1 <= bx0 || by1 <= by0) return new Uint8Array(outW * outH * 3);
  const reduced = boxDownscale(src, k, { x0: bx0, y0: by0, x1: bx1, y1: by1 });
  return warpAffine(reduced, scaleMap(x / k - bx0, y / k - by0, w / k / outW, h / k / outH), outW, outH);
}

const clampInt = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Map for an axis-aligned crop whose output pixel centres sample the source pixel centres. */
function scaleMap(x: number, y: number, sx: number, sy: number): Affine {
  return [sx, 0, x + 0.5 * sx - 0.5, 0, sy, y + 0.5 * sy - 0.5];
}

/**
 * Integer box-filter downscale by k: the mean of each k×k block. `blocks` limits the work to a
 * range of output blocks (default: all). Each output pixel's k source pixels in a row are summed
 * in locals before touching the row accumulator, which is about twice as fast as accumulating
 * per source pixel; on a large photo this is the costliest step of detection.
 */
export function boxDownscale(src: RgbImage, k: number, blocks?: { x0: number; y0: number; x1: number; y1: number }): RgbImage {
  const W = src.width;
  const x0 = blocks?.x0 ?? 0;
  const y0 = blocks?.y0 ?? 0;
  const x1 = blocks?.x1 ?? Math.max(1, Math.floor(W / k));
  const y1 = blocks?.y1 ?? Math.max(1, Math.floor(src.height / k));
  const w = x1 - x0;
  const h = y1 - y0;
  const d = src.data;
  const out = new Uint8Array(w * h * 3);
  if (k === 2) {
    halve(d, W, x0, y0, w, h, out);
    return { width: w, height: h, data: out };
  }
  const acc = new Uint32Array(w * 3);
  const inv = 1 / (k * k);
  const n3 = w * 3;
  for (let oy = 0; oy < h; oy++) {
    acc.fill(0);
    for (let dy = 0; dy < k; dy++) {
      let p = ((y0 + oy) * k + dy) * W * 3 + x0 * k * 3;
      for (let j = 0; j < n3; j += 3) {
        let r = 0;
        let g = 0;
        let b = 0;
        for (let dx = 0; dx < k; dx++, p += 3) {
          r += d[p];
          g += d[p + 1];
          b += d[p + 2];
        }
        acc[j] += r;
        acc[j + 1] += g;
        acc[j + 2] += b;
      }
    }
    // Uint8Array stores truncate, so + 0.5 rounds.
    const o = oy * n3;
    for (let i = 0; i < n3; i++) out[o + i] = acc[i] * inv + 0.5;
  }
  return { width: w, height: h, data: out };
}

/**
 * boxDownscale for k = 2, the pyramid's usual first level (a 1080p photo with tiles), written
 * out: with the block-summing loop above, 1920×1080 took 11.9 ms; this one a fraction of it.
 * (s + 2) >> 2 is the generic path's truncated s × 0.25 + 0.5 exactly (0.25 is exact and s ≥ 0),
 * so both give the same bytes. libvips' shrink rounds each axis separately, so it would not.
 */
function halve(d: Uint8Array, W: number, x0: number, y0: number, w: number, h: number, out: Uint8Array): void {
  const stride = W * 3;
  let o = 0;
  for (let oy = 0; oy < h; oy++) {
    let p = (y0 + oy) * 2 * stride + x0 * 6;
    let q = p + stride;
    for (let x = 0; x < w; x++, p += 6, q += 6, o += 3) {
      out[o] = (d[p] + d[p + 3] + d[q] + d[q + 3] + 2) >> 2;
      out[o + 1] = (d[p + 1] + d[p + 4] + d[q + 1] + d[q + 4] + 2) >> 2;
      out[o + 2] = (d[p + 2] + d[p + 5] + d[q + 2] + d[q + 5] + 2) >> 2;
    }
  }
}

/** Mirror an RGB buffer left-right. */
export function flipHorizontal(buf: Uint8Array, w: number, h: number): Uint8Array {
  const out = new Uint8Array(buf.length);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const s = (y * w + x) * 3;
      const d = (y * w + (w - 1 - x)) * 3;
      out[d] = buf[s];
      out[d + 1] = buf[s + 1];
      out[d + 2] = buf[s + 2];
    }
  }
  return out;
}
