import type { InferenceSession } from 'onnxruntime-node';
import { ort } from './models.js';
import { flipHorizontal } from './image.js';
import { l2normalize } from './vectors.js';


const SIZE = 112;

/** 512-d identity embedding of an ArcFace-aligned 112x112 RGB face, L2-normalised. */
export class Embedder {
  constructor(
    private readonly session: InferenceSession,
    /** Add the embedding of the mirrored face before normalising (measured in docs/engine.md). */
    private readonly flipAverage = true,
  ) {}

  async embed(alignedRgb: Uint8Array): Promise<Float32Array> {
    const v = await this.raw(alignedRgb);
    if (this.flipAverage) {
      const f = await this.raw(flipHorizontal(alignedRgb, SIZE, SIZE));
      for (let i = 0; i < v.length; i++) v[i] += f[i];
    }
    return l2normalize(v);
  }

  private async raw(rgb: Uint8Array): Promise<Float32Array> {
    const plane = SIZE * SIZE;
    const input = new Float32Array(3 * plane);
    // The network was trained on BGR planes scaled to [-1, 1].
    for (let i = 0; i < plane; i++) {
      input[i] = (rgb[i * 3 + 2] - 127.5) / 127.5;
      input[plane + i] = (rgb[i * 3 + 1] - 127.5) / 127.5;
      input[2 * plane + i] = (rgb[i * 3] - 127.5) / 127.5;
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 3, SIZE, SIZE]) });
    return Float32Array.from(out.output.data as Float32Array);
  }
}
