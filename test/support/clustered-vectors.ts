/**
 * Synthetic face embeddings with the structure of real ones: unit vectors around one centre per
 * identity, two photos of one person at cosine ≈ 0.5 and strangers near 0. Deterministic per seed.
 */
export class ClusteredVectors {
  private state: number;
  private readonly centres: Float32Array[] = [];

  constructor(
    readonly dimensions = 512,
    seed = 1,
    /** Spread of one identity's photos around its centre (noise norm ÷ centre norm). */
    private readonly spread = 1,
  ) {
    this.state = seed >>> 0 || 1;
  }

  /** A new photo of identity `id` (identities are created on first use). */
  face(id: number): Float32Array {
    while (this.centres.length <= id) this.centres.push(this.unit(this.gaussian()));
    const c = this.centres[id];
    const noise = this.unit(this.gaussian());
    const v = new Float32Array(this.dimensions);
    for (let i = 0; i < v.length; i++) v[i] = c[i] + this.spread * noise[i];
    return this.unit(v);
  }

  private gaussian(): Float32Array {
    const v = new Float32Array(this.dimensions);
    for (let i = 0; i < v.length; i += 2) {
      const u = Math.max(this.random(), 1e-12);
      const r = Math.sqrt(-2 * Math.log(u));
      const t = 2 * Math.PI * this.random();
      v[i] = r * Math.cos(t);
      if (i + 1 < v.length) v[i + 1] = r * Math.sin(t);
    }
    return v;
  }

  private unit(v: Float32Array): Float32Array {
    let n = 0;
    for (const x of v) n += x * x;
    const s = 1 / Math.sqrt(n);
    for (let i = 0; i < v.length; i++) v[i] *= s;
    return v;
  }

  /** xorshift32: fast, deterministic, good enough for test data. */
  private random(): number {
    let x = this.state;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.state = x >>> 0;
    return this.state / 2 ** 32;
  }
}
