import type { ModelRunner } from './solo.js';
import { ort } from './models.js';
import { boxDownscale, type Box, type RgbImage } from './image.js';

export interface Detection {
  box: Box;
  score: number;
}

export interface DetectorOptions {
  /**
   * Minimum face score kept. 0.65 is the highest that keeps WIDER recall on faces >= 40 px at 0.90
   * (0.7 drops it to 0.89); see bench/detection.ts --sweep.
   */
  scoreThreshold: number;
  /** IoU above which the lower-scored of two boxes is suppressed. 0.3 loses no recall against 0.4/0.5 and drops a few duplicates. */
  iouThreshold: number;
  /**
   * How a region is fitted into the 320x240 input. 'stretch' is what the model's reference code
   * does, and measured better than 'letterbox' on WIDER (AP 0.93 against 0.90 on faces >= 40 px).
   */
  fit: 'stretch' | 'letterbox';
  /**
   * Also run the model on 2x2 overlapping tiles when the image's shorter side is at least this
   * many pixels (0 or absent: never). Each tile sees faces at ~1.7x the full-image scale. From
   * 720 px on, the full pass shrinks a 40 px face to 13 px or less, near its smallest anchors;
   * on smaller photos tiles found little and added false positives (bench/detection.ts --sweep).
   */
  tileMinSide?: number;
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = { scoreThreshold: 0.65, iouThreshold: 0.3, fit: 'stretch', tileMinSide: 720 };

const IN_W = 320;
const IN_H = 240;
/** 1/128 is a power of two: multiplying by it gives the same float as dividing, and is cheaper. */
const INV_128 = 1 / 128;
/** Tiles span this fraction of each side, so neighbours overlap by 2*TILE_SPAN - 1 of it. */
const TILE_SPAN = 0.6;
/** A tile box this close (fraction of the tile side) to an edge shared with a neighbour may be a cut face. */
const TILE_EDGE_MARGIN = 0.02;
/**
 * Taken off the score of a face only a tile found. Tiles see texture at a scale the full pass
 * never does, and their false positives score high (bench/detection.ts --sweep); lowering the
 * score instead of raising a threshold keeps the reported confidence comparable to the threshold.
 */
const TILE_SCORE_PENALTY = 0.15;
/** Faces at least this many pixels at the full pass's input scale are left to the full pass. */
const TILE_MAX_FACE = 30;
/** A tile box and a full-pass box whose overlap covers more than this of the smaller are one face. */
const TILE_OVERLAP = 0.3;

/** A source rectangle mapped onto the whole model input; may reach past the image (letterbox). */
interface Region {
  x: number;
  y: number;
  w: number;
  h: number;
  /** Edges of a tile that lie inside the image: faces cut there are seen whole by another pass. */
  inner?: { left: boolean; top: boolean; right: boolean; bottom: boolean };
}

/** Ultra-Light-Fast-Generic-Face-Detector RFB-320: outputs are already decoded corner boxes (0..1). */
export class FaceDetector {
  constructor(
    private readonly session: ModelRunner,
    private readonly options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS,
  ) {}

  async detect(image: RgbImage): Promise<Detection[]> {
    const { scoreThreshold: thr, iouThreshold } = this.options;
    const regions = this.regions(image.width, image.height);
    const pyramid = new Pyramid(image, Math.min(...regions.map(shrinkOf)));
    const fullScale = 1 / shrinkOf(regions[0]);
    const found: Found[] = [];
    for (const r of regions) {
      const { img, k } = pyramid.levelFor(shrinkOf(r));
      // A fresh buffer per pass: concurrent detect() calls on one engine must not share it.
      const input = new Float32Array(3 * IN_W * IN_H);
      fillInput(img, r.x / k, r.y / k, r.w / k, r.h / k, input);
      const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, IN_H, IN_W]) });
      const boxes = collect(out.scores.data as Float32Array, out.boxes.data as Float32Array, r, image, thr);
      found.push(...(r.inner ? boxes.filter((d) => smallForFullPass(d, fullScale)) : boxes));
    }
    return suppress(found, iouThreshold);
  }

  /** The full image, then (for large enough images) four overlapping tiles. */
  private regions(W: number, H: number): Region[] {
    const regions = [this.fitted(0, 0, W, H)];
    const minSide = this.options.tileMinSide ?? 0;
    if (minSide <= 0 || Math.min(W, H) < minSide) return regions;
    const tw = W * TILE_SPAN;
    const th = H * TILE_SPAN;
    for (const [i, j] of [[0, 0], [1, 0], [0, 1], [1, 1]]) {
      const t = this.fitted(i * (W - tw), j * (H - th), tw, th);
      t.inner = { left: i === 1, top: j === 1, right: i === 0, bottom: j === 0 };
      regions.push(t);
    }
    return regions;
  }

  /** Letterbox grows the rectangle about its centre to the input's aspect; stretch keeps it. */
  private fitted(x: number, y: number, w: number, h: number): Region {
    if (this.options.fit === 'stretch') return { x, y, w, h };
    const s = Math.max(w / IN_W, h / IN_H);
    return { x: x + (w - IN_W * s) / 2, y: y + (h - IN_H * s) / 2, w: IN_W * s, h: IN_H * s };
  }
}

const shrinkOf = (r: Region) => Math.min(r.w / IN_W, r.h / IN_H);

/**
 * Box-averaged copies of the image by integer factors, made on demand. Shrinking by more than 2x
 * with bilinear sampling alone aliases; averaging the whole image once per factor (not once per
 * pass) keeps tiling from multiplying the most expensive step.
 */
class Pyramid {
  private readonly levels = new Map<number, RgbImage>();
  private readonly baseK: number;

  constructor(
    private readonly image: RgbImage,
    finestShrink: number,
  ) {
    this.baseK = finestShrink > 2 ? Math.floor(finestShrink) : 1;
    this.levels.set(1, image);
  }

  /** A level that leaves at most 2x to bilinear sampling; k maps its pixels back to the source. */
  levelFor(shrink: number): { img: RgbImage; k: number } {
    const base = this.level(this.baseK, () => boxDownscale(this.image, this.baseK));
    const rest = shrink / this.baseK;
    if (rest <= 2) return { img: base, k: this.baseK };
    const f = Math.floor(rest);
    const k = this.baseK * f;
    return { img: this.level(k, () => boxDownscale(base, f)), k };
  }

  private level(k: number, make: () => RgbImage): RgbImage {
    let img = this.levels.get(k);
    if (!img) {
      img = make();
      this.levels.set(k, img);
    }
    return img;
  }
}

/**
 * Bilinear resample of the source rectangle [x, y, w, h] straight into the planar (v-127)/128
 * tensor. Sampling is separable on an axis-aligned grid, so the per-column and per-row taps are
 * computed once instead of per pixel, and pixels outside the image read as black. The inner loop
 * is written out per channel with byte offsets precomputed (1.46 → ~0.6 ms for a 320×240 input);
 * the arithmetic is the same expression in the same order, so the tensor is bit for bit the same
 * (÷128 is exact as ×1/128).
 */
function fillInput(img: RgbImage, x: number, y: number, w: number, h: number, out: Float32Array): void {
  const cols = taps(x, w / IN_W, IN_W, img.width);
  const rows = taps(y, h / IN_H, IN_H, img.height);
  const { data } = img;
  const plane = IN_W * IN_H;
  const stride = img.width * 3;
  const black = -127 / 128;
  const c0 = new Int32Array(IN_W);
  const c1 = new Int32Array(IN_W);
  const fx = new Float64Array(IN_W); // the Float32 weights, widened once (same values)
  let uFirst = IN_W;
  let uEnd = 0;
  for (let u = 0; u < IN_W; u++) {
    c0[u] = cols.i0[u] * 3;
    c1[u] = cols.i1[u] * 3;
    fx[u] = cols.f[u];
    // The source position grows with u, so the columns inside the image are one run.
    if (cols.inside[u]) {
      if (uFirst === IN_W) uFirst = u;
      uEnd = u + 1;
    }
  }
  for (let v = 0; v < IN_H; v++) {
    const o = v * IN_W;
    const og = plane + o;
    const ob = 2 * plane + o;
    if (!rows.inside[v] || uFirst >= uEnd) {
      out.fill(black, o, o + IN_W);
      out.fill(black, og, og + IN_W);
      out.fill(black, ob, ob + IN_W);
      continue;
    }
    out.fill(black, o, o + uFirst);
    out.fill(black, og, og + uFirst);
    out.fill(black, ob, ob + uFirst);
    out.fill(black, o + uEnd, o + IN_W);
    out.fill(black, og + uEnd, og + IN_W);
    out.fill(black, ob + uEnd, ob + IN_W);
    const r0 = rows.i0[v] * stride;
    const r1 = rows.i1[v] * stride;
    const fy = rows.f[v];
    for (let u = uFirst; u < uEnd; u++) {
      const a = r0 + c0[u];
      const b = r0 + c1[u];
      const c = r1 + c0[u];
      const d = r1 + c1[u];
      const f = fx[u];
      let top = data[a] + (data[b] - data[a]) * f;
      let bottom = data[c] + (data[d] - data[c]) * f;
      out[o + u] = (top + (bottom - top) * fy - 127) * INV_128;
      top = data[a + 1] + (data[b + 1] - data[a + 1]) * f;
      bottom = data[c + 1] + (data[d + 1] - data[c + 1]) * f;
      out[og + u] = (top + (bottom - top) * fy - 127) * INV_128;
      top = data[a + 2] + (data[b + 2] - data[a + 2]) * f;
      bottom = data[c + 2] + (data[d + 2] - data[c + 2]) * f;
      out[ob + u] = (top + (bottom - top) * fy - 127) * INV_128;
    }
  }
}

/** Along one axis: the two source pixels and weight each output pixel centre samples, edges clamped. */
function taps(start: number, scale: number, n: number, size: number) {
  const i0 = new Int32Array(n);
  const i1 = new Int32Array(n);
  const f = new Float32Array(n);
  const inside = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const p = start + (i + 0.5) * scale - 0.5;
    inside[i] = p >= -0.5 && p <= size - 0.5 ? 1 : 0;
    const q = Math.min(Math.max(p, 0), size - 1);
    i0[i] = Math.floor(q);
    i1[i] = Math.min(i0[i] + 1, size - 1);
    f[i] = q - i0[i];
  }
  return { i0, i1, f, inside };
}

interface Found extends Detection {
  tile: boolean;
}

/**
 * The region's boxes scoring at least `minScore`, in source pixels, minus faces cut by a tile
 * edge. Tile boxes lose TILE_SCORE_PENALTY first, so every later step compares one scale of score.
 */
function collect(scores: Float32Array, boxes: Float32Array, r: Region, image: RgbImage, minScore: number): Found[] {
  const { width: W, height: H } = image;
  const tile = r.inner !== undefined;
  const mx = TILE_EDGE_MARGIN * r.w;
  const my = TILE_EDGE_MARGIN * r.h;
  const found: Found[] = [];
  for (let i = 0; i < scores.length / 2; i++) {
    const score = scores[i * 2 + 1] - (tile ? TILE_SCORE_PENALTY : 0);
    if (score < minScore) continue;
    const bx1 = r.x + boxes[i * 4] * r.w;
    const by1 = r.y + boxes[i * 4 + 1] * r.h;
    const bx2 = r.x + boxes[i * 4 + 2] * r.w;
    const by2 = r.y + boxes[i * 4 + 3] * r.h;
    if (tile && cutByTile(r, bx1, by1, bx2, by2, mx, my)) continue;
    const x1 = clamp(bx1, 0, W);
    const y1 = clamp(by1, 0, H);
    const x2 = clamp(bx2, 0, W);
    const y2 = clamp(by2, 0, H);
    if (x2 - x1 < 2 || y2 - y1 < 2) continue;
    found.push({ box: { x1, y1, x2, y2 }, score, tile });
  }
  return found;
}

/** Tiles are there for faces too small for the full pass; bigger ones it finds with better boxes. */
const smallForFullPass = (d: Detection, fullScale: number) => Math.min(d.box.x2 - d.box.x1, d.box.y2 - d.box.y1) * fullScale < TILE_MAX_FACE;

/**
 * Greedy NMS over all passes. Boxes from one scale are compared by IoU; a tile box against a
 * full-pass box by overlap of the smaller, because the two scales frame a face differently and
 * a partial face box sits inside the whole one with a low IoU. Greedy by score, so applying a
 * score threshold before or after gives the same result (bench/detection.ts relies on that).
 */
function suppress(found: Found[], iouThreshold: number): Detection[] {
  const kept: Found[] = [];
  for (const d of [...found].sort((a, b) => b.score - a.score)) {
    const same = (k: Found) => (k.tile === d.tile ? iou(k.box, d.box) > iouThreshold : overlapOfSmaller(k.box, d.box) > TILE_OVERLAP);
    if (!kept.some(same)) kept.push(d);
  }
  return kept.map(({ box, score }) => ({ box, score }));
}

function cutByTile(r: Region, x1: number, y1: number, x2: number, y2: number, mx: number, my: number): boolean {
  const e = r.inner!;
  return (
    (e.left && x1 < r.x + mx) || (e.top && y1 < r.y + my) || (e.right && x2 > r.x + r.w - mx) || (e.bottom && y2 > r.y + r.h - my)
  );
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

/** Intersection over the smaller box's area: catches a box nested in another, which IoU does not. */
export function overlapOfSmaller(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  return (iw * ih) / Math.min((a.x2 - a.x1) * (a.y2 - a.y1), (b.x2 - b.x1) * (b.y2 - b.y1));
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}
