import type { ModelRunner } from './solo.js';
import { ort } from './models.js';
import { flipHorizontal } from './image.js';
import { l2normalize } from './vectors.js';


const SIZE = 112;

/** 512-d identity embedding of an ArcFace-aligned 112x112 RGB face, L2-normalised. */
export class Embedder {
  constructor(
    private readonly session: ModelRunner,
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
    const out = await this.session.run({ input: new ort.Tensor('float32', embedderInput(rgb), [1, 3, SIZE, SIZE]) });
    return Float32Array.from(out.output.data as Float32Array);
  }
}

/**
 * (v - 127.5) / 127.5 for every byte value, as float32: the table holds exactly what the
 * division stored, so looking it up gives the same tensor without 37,632 divisions a face.
 */
const SCALED = Float32Array.from({ length: 256 }, (_, v) => (v - 127.5) / 127.5);

/** The network was trained on BGR planes scaled to [-1, 1]. */
export function embedderInput(rgb: Uint8Array): Float32Array {
  const plane = SIZE * SIZE;
  const input = new Float32Array(3 * plane);
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    input[i] = SCALED[rgb[p + 2]];
    input[plane + i] = SCALED[rgb[p + 1]];
    input[2 * plane + i] = SCALED[rgb[p]];
  }
  return input;
}
