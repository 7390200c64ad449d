import type { AnalyzeOptions, AnalyzeResult } from './engine.js';

/**
 * What every engine stand-in offers the domain: the in-process FaceEngine, the worker pool,
 * the lazily loaded engine and the timing decorator all fit, so they can wrap one another.
 */
export interface FaceAnalyzer {
  readonly modelVersion: string;
  analyze(bytes: Uint8Array, options?: AnalyzeOptions): Promise<AnalyzeResult>;
}
