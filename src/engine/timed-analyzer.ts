import type { FaceAnalyzer } from './analyzer.js';
import type { AnalyzeOptions } from './engine.js';

/** Where inference timings go; the HTTP layer supplies one that feeds its metrics. */
export interface InferenceTimingHook {
  /**
   * One stage of one analysed image, summed over its faces. Stage "queue" is the wall time the
   * caller saw minus the engine's stages: the wait for a worker plus the hand-over.
   */
  onStage(stage: string, seconds: number): void;
}

/**
 * A FaceAnalyzer that asks the engine for its per-stage timings and reports them to `hook`. The
 * domain never sees the difference (it ignores `timings`), so the timing stays out of its way.
 */
export function withInferenceMetrics(analyzer: FaceAnalyzer, hook: InferenceTimingHook): FaceAnalyzer {
  return {
    modelVersion: analyzer.modelVersion,
    async analyze<O extends AnalyzeOptions = {}>(bytes: Uint8Array, options: O = {} as O) {
      const start = performance.now();
      const result = await analyzer.analyze<O>(bytes, { ...options, timings: true });
      if (result.timings) reportStages(hook, result.timings, performance.now() - start);
      return result;
    },
  };
}

function reportStages(hook: InferenceTimingHook, timingsMs: Record<string, number>, wallMs: number): void {
  let engineMs = 0;
  for (const [stage, ms] of Object.entries(timingsMs)) {
    hook.onStage(stage, ms / 1000);
    engineMs += ms;
  }
  hook.onStage('queue', Math.max(0, wallMs - engineMs) / 1000);
}
