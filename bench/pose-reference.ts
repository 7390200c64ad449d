/**
 * The reference head-pose model `fr_pose.onnx` (Hopenet-style; faceplugin-face-recognition-js
 * lib/fr_pose.js) as the benches read it: bench:pose calibrates the engine's geometric pose
 * against it, bench:hard-faces sorts ground-truth faces by how far they are turned.
 */
import sharp from 'sharp';
import { loadSession, ort } from '../src/engine/models.js';
import { cropResize, type Box, type RgbImage } from '../src/engine/image.js';

const MEAN = [0.485, 0.456, 0.406];
const STD = [0.229, 0.224, 0.225];
export const HEADS = ['output', '617', '618'] as const;

/** Raw expected angle of each head, in head order. */
export type HeadAngles = [number, number, number];

export class PoseReference {
  private constructor(private readonly session: ort.InferenceSession) {}

  static async load(): Promise<PoseReference> {
    return new PoseReference(await loadSession('pose'));
  }

  /** The three heads' angles for the face in `box` (a 1.5× crop at 224×224, ImageNet-normalised). */
  async heads(image: RgbImage, box: Box): Promise<HeadAngles> {
    const w = box.x2 - box.x1;
    const h = box.y2 - box.y1;
    const rgb = cropResize(image, box.x1 - w / 4, box.y1 - h / 4, w * 1.5, h * 1.5, 224, 224);
    const plane = 224 * 224;
    const input = new Float32Array(3 * plane);
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) input[c * plane + i] = (rgb[i * 3 + c] / 255 - MEAN[c]) / STD[c];
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, 224, 224]) });
    return HEADS.map((k) => expectedAngle(out[k].data as Float32Array)) as HeadAngles;
  }

  /** Yaw in the engine's sign convention (> 0 turned towards the image's right; bench:pose). */
  async yaw(image: RgbImage, box: Box): Promise<number> {
    return -(await this.heads(image, box))[0];
  }
}

function expectedAngle(logits: Float32Array): number {
  const m = Math.max(...logits);
  let sum = 0;
  let acc = 0;
  for (let i = 0; i < logits.length; i++) {
    const p = Math.exp(logits[i] - m);
    sum += p;
    acc += p * i;
  }
  return (acc / sum) * 3 - 99;
}

/** WIDER images are stored squashed to 416x416; widen or heighten them back to the original aspect. */
export async function restoreAspect(img: RgbImage, original?: [number, number]): Promise<RgbImage> {
  if (!original) return img;
  const [ow, oh] = original;
  const w = ow >= oh ? Math.round((img.height * ow) / oh) : img.width;
  const h = ow >= oh ? img.height : Math.round((img.width * oh) / ow);
  const data = await sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(w, h, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width: w, height: h, data: new Uint8Array(data) };
}
