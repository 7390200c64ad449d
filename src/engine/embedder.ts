import type { ModelRunner } from './solo.js';
import { ort } from './models.js';
import { flipHorizontal } from './image.js';
import { l2normalize } from './vectors.js';


const SIZE = 112;
const PLANES = 3 * SIZE * SIZE;
/**
 * Faces per model run. A photo's faces go through the embedder together (free-batch.ts); the cap
 * bounds the run's memory (ORT's arena keeps what the largest batch needed) on a crowd photo.
 */
const MAX_BATCH = 16;

/** 512-d identity embedding of an ArcFace-aligned 112x112 RGB face, L2-normalised. */
export class Embedder {
  constructor(
    private readonly session: ModelRunner,
    /** Add the embedding of the mirrored face before normalising (measured in docs/engine.md). */
    private readonly flipAverage = true,
  ) {}

  async embed(alignedRgb: Uint8Array): Promise<Float32Array> {
    return (await this.embedAll([alignedRgb]))[0];
  }

  /** The embeddings of several faces, in order, computed in batches (the same values as one at a time). */
  async embedAll(aligned: Uint8Array[]): Promise<Float32Array[]> {
    const inputs = this.flipAverage ? aligned.flatMap((rgb) => [rgb, flipHorizontal(rgb, SIZE, SIZE)]) : aligned;
    const raw: Float32Array[] = [];
    for (let from = 0; from < inputs.length; from += MAX_BATCH) raw.push(...(await this.raw(inputs.slice(from, from + MAX_BATCH))));
    if (!this.flipAverage) return raw.map(l2normalize);
    return aligned.map((_, i) => {
      const v = raw[2 * i];
      const f = raw[2 * i + 1];
      for (let d = 0; d < v.length; d++) v[d] += f[d];
      return l2normalize(v);
    });
  }

  private async raw(batch: Uint8Array[]): Promise<Float32Array[]> {
    const input = new Float32Array(batch.length * PLANES);
    batch.forEach((rgb, i) => embedderInput(rgb, input.subarray(i * PLANES, (i + 1) * PLANES)));
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [batch.length, 3, SIZE, SIZE]) });
    const data = out.output.data as Float32Array;
    const width = data.length / batch.length;
    return batch.map((_, i) => data.slice(i * width, (i + 1) * width));
  }
}

/**
 * (v - 127.5) / 127.5 for every byte value, as float32: the table holds exactly what the
 * division stored, so looking it up gives the same tensor without 37,632 divisions a face.
 */
const SCALED = Float32Array.from({ length: 256 }, (_, v) => (v - 127.5) / 127.5);

/** The network was trained on BGR planes scaled to [-1, 1]. */
export function embedderInput(rgb: Uint8Array, input = new Float32Array(PLANES)): Float32Array {
  const plane = SIZE * SIZE;
  for (let i = 0, p = 0; i < plane; i++, p += 3) {
    input[i] = SCALED[rgb[p + 2]];
    input[plane + i] = SCALED[rgb[p + 1]];
    input[2 * plane + i] = SCALED[rgb[p]];
  }
  return input;
}
