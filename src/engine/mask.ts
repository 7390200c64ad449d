/**
 * Mask flag. Placeholder interface: the trained probe lands in a later commit
 * (see bench/train-mask.ts); until then nothing is claimed.
 */
export interface MaskInput {
  aligned: Uint8Array;
  embedding?: Float32Array;
}

export class MaskClassifier {
  readonly needsEmbedding = false;
  static load(): MaskClassifier {
    return new MaskClassifier();
  }
  classify(_input: MaskInput): { masked: boolean; probability: number } {
    return { masked: false, probability: 0 };
  }
}
