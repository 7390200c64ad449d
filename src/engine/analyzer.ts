import type { AnalyzeOptions, AnalyzeResult, AnalyzeResultFor, EmbeddedFace } from './engine.js';

/**
 * What every engine stand-in offers the domain: the in-process FaceEngine, the worker pool,
 * the lazily loaded engine and the timing decorator all fit, so they can wrap one another.
 */
export interface FaceAnalyzer {
  readonly modelVersion: string;
  /** Asking for embeddings (`embed: true`) types every face with its embedding. */
  analyze<O extends AnalyzeOptions = {}>(bytes: Uint8Array, options?: O): Promise<AnalyzeResultFor<O>>;
}

/** The faces an `embed` request with `embedLimit` embedded: the first `embedLimit`, in order. */
export function embeddedFaces(result: AnalyzeResult, embedLimit: number): EmbeddedFace[] {
  // FaceEngine.analyzeDecoded embeds exactly the faces before embedLimit.
  return result.faces.slice(0, embedLimit) as EmbeddedFace[];
}
