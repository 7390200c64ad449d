import type { InferenceSession } from 'onnxruntime-node';
import { ort } from './models.js';
import { cropResize, type Box, type RgbImage } from './image.js';

const SIZE = 128;
/** The model looks at the face with its surroundings: 2.7× the detector box (less near edges). */
const CONTEXT = 2.7;

/** Silent-Face style passive anti-spoofing: probability that the face is live (class 0). */
export class LivenessModel {
  constructor(private readonly session: InferenceSession) {}

  async liveScore(image: RgbImage, box: Box): Promise<number> {
    const { x, y, w, h } = contextCrop(image, box, CONTEXT);
    const rgb = cropResize(image, x, y, w, h, SIZE, SIZE);
    const plane = SIZE * SIZE;
    const input = new Float32Array(3 * plane);
    // BGR planes, raw 0..255.
    for (let i = 0; i < plane; i++) {
      input[i] = rgb[i * 3 + 2];
      input[plane + i] = rgb[i * 3 + 1];
      input[2 * plane + i] = rgb[i * 3];
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, SIZE, SIZE]) });
    return softmax(out.output.data as Float32Array)[0];
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
