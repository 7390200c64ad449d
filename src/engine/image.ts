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

export const boxWidth = (b: Box): number => b.x2 - b.x1;
export const boxHeight = (b: Box): number => b.y2 - b.y1;

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
 * When shrinking by more than 2× the source is box-averaged first so that small model inputs
 * do not alias.
 */
export function cropResize(src: RgbImage, x: number, y: number, w: number, h: number, outW: number, outH: number): Uint8Array {
  const shrink = Math.min(w / outW, h / outH);
  if (shrink > 2) {
    const k = Math.floor(shrink);
    const reduced = boxDownscale(src, k);
    return warpAffine(reduced, scaleMap(x / k, y / k, w / k / outW, h / k / outH), outW, outH);
  }
  return warpAffine(src, scaleMap(x, y, w / outW, h / outH), outW, outH);
}

/** Map for an axis-aligned crop whose output pixel centres sample the source pixel centres. */
function scaleMap(x: number, y: number, sx: number, sy: number): Affine {
  return [sx, 0, x + 0.5 * sx - 0.5, 0, sy, y + 0.5 * sy - 0.5];
}

/** Integer box-filter downscale by k (mean of each k×k block). */
export function boxDownscale(src: RgbImage, k: number): RgbImage {
  const w = Math.max(1, Math.floor(src.width / k));
  const h = Math.max(1, Math.floor(src.height / k));
  const out = new Uint8Array(w * h * 3);
  const acc = new Uint32Array(w * 3);
  const n = k * k;
  for (let oy = 0; oy < h; oy++) {
    acc.fill(0);
    for (let dy = 0; dy < k; dy++) {
      const row = (oy * k + dy) * src.width * 3;
      for (let ox = 0; ox < w; ox++) {
        let p = row + ox * k * 3;
        for (let dx = 0; dx < k; dx++, p += 3) {
          acc[ox * 3] += src.data[p];
          acc[ox * 3 + 1] += src.data[p + 1];
          acc[ox * 3 + 2] += src.data[p + 2];
        }
      }
    }
    const o = oy * w * 3;
    for (let i = 0; i < w * 3; i++) out[o + i] = Math.round(acc[i] / n);
  }
  return { width: w, height: h, data: out };
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
