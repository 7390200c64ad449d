import type { ModelRunner } from './solo.js';
import { ort } from './models.js';
import { cropResize, flipHorizontal, type Box, type RgbImage } from './image.js';

const SIZE = 128;
/**
 * The model looks at the face with its surroundings (screen bezels, paper edges): 2.7× the
 * detector box, as in the SDK it ships with. Webcam-distance faces hit the image border first,
 * so 2.7, 3.3 and 4.0 give the same crop there; measured in bench/spoof.ts (docs in spoof.ts).
 */
const CONTEXT = 2.7;
/** Output classes: 0 = live, 1 and 2 = attack kinds. Class 1 ranks spoofs highest on NUAA/MSU. */
const LIVE_CLASS = 0;
const CLASSES = 3;

/** Silent-Face style passive anti-spoofing: probability that the face is live. */
export class LivenessModel {
  constructor(private readonly session: ModelRunner) {}

  /**
   * Mean of the live probability for the crop and its mirror image. A mirrored face is as valid
   * an input (Silent-Face trains with random flips), yet the two views of one face differ by
   * about one logit: averaging removes that noise. On MSU-MFSD it lowered 36 of 54 attack scores
   * and doubled the width (in logits) of the threshold range that meets the `balanced` target
   * (spoof.ts). The two go through the model as one batch of two (free-batch.ts): on a lone
   * request's two threads that took 10.3 instead of 12.4 ms (docs/engine.md).
   */
  async liveScore(image: RgbImage, box: Box): Promise<number> {
    const { x, y, w, h } = contextCrop(image, box, CONTEXT);
    const rgb = cropResize(image, x, y, w, h, SIZE, SIZE);
    const [direct, mirrored] = await this.classify([rgb, flipHorizontal(rgb, SIZE, SIZE)]);
    return (direct + mirrored) / 2;
  }

  /** The live probability of each crop, in order, from one run of the model. */
  async classify(crops: Uint8Array[]): Promise<number[]> {
    const plane = 3 * SIZE * SIZE;
    const input = new Float32Array(crops.length * plane);
    crops.forEach((rgb, i) => toBgrPlanes(rgb, input.subarray(i * plane, (i + 1) * plane)));
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [crops.length, 3, SIZE, SIZE]) });
    const logits = out.output.data as Float32Array;
    return crops.map((_, i) => softmax(logits.subarray(i * CLASSES, (i + 1) * CLASSES))[LIVE_CLASS]);
  }
}

/**
 * Planar BGR, raw 0..255, written into `input`: the OpenCV layout the model was trained on.
 * Feeding RGB instead drops MSU-MFSD AUC from 0.95 to 0.59: replays then score as live.
 */
function toBgrPlanes(rgb: Uint8Array, input: Float32Array): void {
  const plane = SIZE * SIZE;
  for (let i = 0; i < plane; i++) {
    input[i] = rgb[i * 3 + 2];
    input[plane + i] = rgb[i * 3 + 1];
    input[2 * plane + i] = rgb[i * 3];
  }
}

/** The box scaled about its centre, shrunk so it fits the image, then shifted inside it. */
export function contextCrop(image: RgbImage, box: Box, factor: number) {
  const bw = box.x2 - box.x1;
  const bh = box.y2 - box.y1;
  const s = Math.min((image.height - 1) / bh, (image.width - 1) / bw, factor);
  const w = bw * s;
  const h = bh * s;
  let x = (box.x1 + box.x2) / 2 - w / 2;
  let y = (box.y1 + box.y2) / 2 - h / 2;
  x = Math.min(Math.max(0, x), image.width - 1 - w);
  y = Math.min(Math.max(0, y), image.height - 1 - h);
  return { x, y, w, h };
}

export function softmax(v: ArrayLike<number>): number[] {
  const m = Math.max(...Array.from(v));
  const e = Array.from(v, (x) => Math.exp(x - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((x) => x / s);
}
