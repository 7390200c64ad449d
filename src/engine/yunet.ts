import type { ModelRunner } from './solo.js';
import { ort } from './models.js';
import { cropResize, type Point, type RgbImage } from './image.js';
import { iou, type Detection } from './detector.js';
import type { FivePoints } from './landmarks.js';

/** A face YuNet found, with the five points it regresses (ArcFace order, see `decode`). */
export interface YunetDetection extends Detection {
  five: FivePoints;
}

export interface YunetOptions {
  /** Minimum score (sqrt(cls*obj)) kept; see docs/engine.md "Hard faces" for how it was chosen. */
  scoreThreshold: number;
  /** IoU above which the lower-scored of two boxes is suppressed. */
  iouThreshold: number;
  /** Long side of the network input, a multiple of 32 (the coarsest stride). */
  inputSize: number;
  /**
   * Border added on every side, as a share of the longer image side, for the retry on an image
   * where nothing was found: a face that fills a tight crop (cut at forehead and chin) has no
   * context around it, and YuNet, trained on whole scenes, scores it low or not at all.
   */
  retryPad: number;
  /** Rotated copies (90°, 180°, 270°) are tried only when the best upright score is below this. */
  rotateBelow: number;
}

export const DEFAULT_YUNET_OPTIONS: YunetOptions = { scoreThreshold: 0.6, iouThreshold: 0.3, inputSize: 416, retryPad: 0.25, rotateBelow: 0.9 };

const STRIDES = [8, 16, 32] as const;
/** Grey of the retry border: a flat mid-tone adds no edges that could pass for a face. */
const PAD_GREY = 127;

/**
 * YuNet-s (libfacedetection.train, Apache-2.0): an anchor-free detector that also regresses five
 * landmarks, so alignment does not depend on seeing the mouth (the 68-point model does). Used
 * where RFB-320 is weak: masked faces, tight crops, faces turned in the image plane.
 */
export class YunetDetector {
  constructor(
    private readonly session: ModelRunner,
    private readonly options: YunetOptions = DEFAULT_YUNET_OPTIONS,
  ) {}

  /**
   * The upright image; when nothing is found there, the same with a border. When the best face
   * still scores below `rotateBelow`, the three other quarter turns are tried the same way and the
   * orientation whose best face scores highest wins: a photo's faces share the camera's
   * orientation, and taking one orientation keeps the others' false positives out.
   */
  async detect(image: RgbImage): Promise<YunetDetection[]> {
    let best = await this.upright(image);
    if (top(best) >= this.options.rotateBelow) return best;
    for (const turns of [1, 2, 3] as const) {
      const rotated = rotateQuarter(image, turns);
      const found = await this.upright(rotated);
      if (top(found) > top(best)) best = found.map((d) => unrotate(d, turns, image.width, image.height));
    }
    return best;
  }

  /** One pass, then (when it finds nothing) one on a copy with a grey border. */
  private async upright(image: RgbImage): Promise<YunetDetection[]> {
    const found = await this.pass(image);
    if (found.length > 0) return found;
    const pad = Math.round(this.options.retryPad * Math.max(image.width, image.height));
    const padded = await this.pass(addBorder(image, pad));
    return padded.map((d) => shift(d, -pad, image.width, image.height));
  }

  /** One network run on the whole image, fitted into the input with its aspect kept. */
  async pass(image: RgbImage): Promise<YunetDetection[]> {
    const { inputSize } = this.options;
    const { width: W, height: H } = image;
    const scale = inputSize / Math.max(W, H);
    const rw = Math.max(1, Math.round(W * scale));
    const rh = Math.max(1, Math.round(H * scale));
    const inW = Math.ceil(rw / 32) * 32;
    const inH = Math.ceil(rh / 32) * 32;
    const rgb = cropResize(image, 0, 0, W, H, rw, rh); // box-averages first when shrinking > 2x
    const plane = inW * inH;
    const input = new Float32Array(3 * plane); // zero right/bottom padding, as OpenCV's FaceDetectorYN
    for (let y = 0; y < rh; y++) {
      for (let x = 0; x < rw; x++) {
        const s = (y * rw + x) * 3;
        const o = y * inW + x;
        input[o] = rgb[s + 2]; // BGR, 0..255: the training pipeline's (OpenCV) layout
        input[plane + o] = rgb[s + 1];
        input[2 * plane + o] = rgb[s];
      }
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, inH, inW]) });
    const sx = W / rw;
    const sy = H / rh;
    const found: YunetDetection[] = [];
    for (const stride of STRIDES) {
      const cls = out[`cls_${stride}`].data as Float32Array;
      const obj = out[`obj_${stride}`].data as Float32Array;
      const bbox = out[`bbox_${stride}`].data as Float32Array;
      const kps = out[`kps_${stride}`].data as Float32Array;
      const cols = inW / stride;
      for (let i = 0; i < cls.length; i++) {
        const score = Math.sqrt(clamp01(cls[i]) * clamp01(obj[i]));
        if (score < this.options.scoreThreshold) continue;
        const c = i % cols;
        const r = Math.floor(i / cols);
        const cx = (c + bbox[i * 4]) * stride;
        const cy = (r + bbox[i * 4 + 1]) * stride;
        const w = Math.exp(bbox[i * 4 + 2]) * stride;
        const h = Math.exp(bbox[i * 4 + 3]) * stride;
        const box = { x1: (cx - w / 2) * sx, y1: (cy - h / 2) * sy, x2: (cx + w / 2) * sx, y2: (cy + h / 2) * sy };
        // The model's order: the subject's right eye, left eye, nose tip, right and left mouth
        // corners, i.e. image-left first on an upright face: the ArcFace template's order.
        const five = [0, 1, 2, 3, 4].map((p) => ({ x: (c + kps[i * 10 + 2 * p]) * stride * sx, y: (r + kps[i * 10 + 2 * p + 1]) * stride * sy })) as FivePoints;
        found.push({ box, score, five });
      }
    }
    return suppress(found, this.options.iouThreshold).map((d) => clip(d, W, H));
  }
}

const top = (found: Detection[]) => found.reduce((m, d) => Math.max(m, d.score), 0);
const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

function suppress<T extends Detection>(found: T[], iouThreshold: number): T[] {
  const kept: T[] = [];
  for (const d of [...found].sort((a, b) => b.score - a.score)) if (!kept.some((k) => iou(k.box, d.box) > iouThreshold)) kept.push(d);
  return kept;
}

/** The box inside the image (the API reports visible boxes); landmarks may lie outside a cut face. */
function clip(d: YunetDetection, W: number, H: number): YunetDetection {
  const b = d.box;
  return { ...d, box: { x1: Math.max(0, b.x1), y1: Math.max(0, b.y1), x2: Math.min(W, b.x2), y2: Math.min(H, b.y2) } };
}

function shift(d: YunetDetection, by: number, W: number, H: number): YunetDetection {
  const p = (q: Point) => ({ x: q.x + by, y: q.y + by });
  const b = d.box;
  return clip({ score: d.score, box: { x1: b.x1 + by, y1: b.y1 + by, x2: b.x2 + by, y2: b.y2 + by }, five: d.five.map(p) as FivePoints }, W, H);
}

export function addBorder(image: RgbImage, pad: number): RgbImage {
  const width = image.width + 2 * pad;
  const height = image.height + 2 * pad;
  const data = new Uint8Array(width * height * 3).fill(PAD_GREY);
  const row = image.width * 3;
  for (let y = 0; y < image.height; y++) data.set(image.data.subarray(y * row, (y + 1) * row), ((y + pad) * width + pad) * 3);
  return { data, width, height };
}

/**
 * Where a point of the image turned clockwise by `turns` quarter turns lies in the original
 * (continuous coordinates, the image spanning [0, W] x [0, H]).
 */
export function toOriginal(turns: 1 | 2 | 3, W: number, H: number, p: Point): Point {
  if (turns === 1) return { x: p.y, y: H - p.x };
  if (turns === 2) return { x: W - p.x, y: H - p.y };
  return { x: W - p.y, y: p.x };
}

/** The image turned clockwise by `turns` quarter turns (exact: pixels are moved, not resampled). */
export function rotateQuarter(image: RgbImage, turns: 1 | 2 | 3): RgbImage {
  const { width: W, height: H, data } = image;
  const width = turns === 2 ? W : H;
  const height = turns === 2 ? H : W;
  const out = new Uint8Array(data.length);
  for (let v = 0; v < height; v++) {
    for (let u = 0; u < width; u++) {
      const p = toOriginal(turns, W, H, { x: u + 0.5, y: v + 0.5 });
      const s = (Math.floor(p.y) * W + Math.floor(p.x)) * 3;
      const o = (v * width + u) * 3;
      out[o] = data[s];
      out[o + 1] = data[s + 1];
      out[o + 2] = data[s + 2];
    }
  }
  return { data: out, width, height };
}

/** A detection on the turned image, in the original's pixels; the points keep their meaning. */
function unrotate(d: YunetDetection, turns: 1 | 2 | 3, W: number, H: number): YunetDetection {
  const a = toOriginal(turns, W, H, { x: d.box.x1, y: d.box.y1 });
  const b = toOriginal(turns, W, H, { x: d.box.x2, y: d.box.y2 });
  const box = { x1: Math.min(a.x, b.x), y1: Math.min(a.y, b.y), x2: Math.max(a.x, b.x), y2: Math.max(a.y, b.y) };
  return { score: d.score, box, five: d.five.map((p) => toOriginal(turns, W, H, p)) as FivePoints };
}
