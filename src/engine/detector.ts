import type { InferenceSession } from 'onnxruntime-node';
import { ort } from './models.js';
import { cropResize, type Box, type RgbImage } from './image.js';

export interface Detection {
  box: Box;
  score: number;
}

export interface DetectorOptions {
  /** Minimum face score kept. 0.65 balances WIDER recall against precision (docs/engine.md). */
  scoreThreshold: number;
  /** IoU above which the lower-scored of two boxes is suppressed. */
  iouThreshold: number;
  /** How the image is fitted into the 320x240 input (measured in docs/engine.md). */
  fit: 'stretch' | 'letterbox';
}

export const DEFAULT_DETECTOR_OPTIONS: DetectorOptions = { scoreThreshold: 0.65, iouThreshold: 0.4, fit: 'stretch' };

const IN_W = 320;
const IN_H = 240;

/** Ultra-Light-Fast-Generic-Face-Detector RFB-320: outputs are already decoded corner boxes (0..1). */
export class FaceDetector {
  constructor(
    private readonly session: InferenceSession,
    private readonly options: DetectorOptions = DEFAULT_DETECTOR_OPTIONS,
  ) {}

  async detect(image: RgbImage): Promise<Detection[]> {
    const { width: W, height: H } = image;
    // Region of the source mapped onto the full input; letterbox pads it out to the input's aspect.
    let rx = 0, ry = 0, rw = W, rh = H;
    if (this.options.fit === 'letterbox') {
      const s = Math.max(W / IN_W, H / IN_H);
      rw = IN_W * s;
      rh = IN_H * s;
      rx = (W - rw) / 2;
      ry = (H - rh) / 2;
    }
    const rgb = cropResize(image, rx, ry, rw, rh, IN_W, IN_H);
    const input = new Float32Array(3 * IN_W * IN_H);
    const plane = IN_W * IN_H;
    for (let i = 0; i < plane; i++) {
      input[i] = (rgb[i * 3] - 127) / 128;
      input[plane + i] = (rgb[i * 3 + 1] - 127) / 128;
      input[2 * plane + i] = (rgb[i * 3 + 2] - 127) / 128;
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, IN_H, IN_W]) });
    const scores = out.scores.data as Float32Array;
    const boxes = out.boxes.data as Float32Array;
    const candidates: Detection[] = [];
    for (let i = 0; i < scores.length / 2; i++) {
      const score = scores[i * 2 + 1];
      if (score < this.options.scoreThreshold) continue;
      const x1 = clamp(rx + boxes[i * 4] * rw, 0, W);
      const y1 = clamp(ry + boxes[i * 4 + 1] * rh, 0, H);
      const x2 = clamp(rx + boxes[i * 4 + 2] * rw, 0, W);
      const y2 = clamp(ry + boxes[i * 4 + 3] * rh, 0, H);
      if (x2 - x1 < 2 || y2 - y1 < 2) continue;
      candidates.push({ box: { x1, y1, x2, y2 }, score });
    }
    return nonMaxSuppression(candidates, this.options.iouThreshold);
  }
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const ih = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  return inter / ((a.x2 - a.x1) * (a.y2 - a.y1) + (b.x2 - b.x1) * (b.y2 - b.y1) - inter);
}

/** Greedy NMS in descending score order. */
export function nonMaxSuppression(dets: Detection[], threshold: number): Detection[] {
  const sorted = [...dets].sort((a, b) => b.score - a.score);
  const kept: Detection[] = [];
  for (const d of sorted) {
    if (kept.every((k) => iou(k.box, d.box) <= threshold)) kept.push(d);
  }
  return kept;
}
