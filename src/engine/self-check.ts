import { cpus } from 'node:os';
import type { WorkerSelfCheck } from './engine-worker.js';
import { MODEL_STAGES, type ModelStage } from './engine.js';
import { ort, type SessionTuning } from './models.js';

/**
 * Warm per-stage times (ms) that facerec's own figures are made with (docs/engine.md, "Speed",
 * 640×480 single face). A stage this many times slower on a user's machine is not noise: a
 * denormal-sensitive CPU, an oversubscribed host, or a debug build of the runtime.
 */
export const EXPECTED_STAGE_MS: Record<ModelStage, number> = { detect: 4, landmarks: 1, align: 1, embed: 10, liveness: 12 };
export const FAR_SLOWER = 3;

export interface SelfCheckReport {
  /** Logged at info once at start-up. */
  summary: {
    cpu: string;
    onnxruntime: string;
    tuning: SessionTuning;
    /** Intra-op threads of a request alone in the pool (FACEREC_LONE_REQUEST_THREADS; 1: none). */
    loneRequestThreads: number;
    workers: { thread: number; flushesDenormals: boolean; soloFlushesDenormals?: boolean; stageMs: Record<ModelStage, number> }[];
  };
  /** Each one logged at warn. */
  warnings: string[];
}

/** Reads the workers' self-checks against the expected figures. */
export function assessSelfCheck(
  checks: Pick<WorkerSelfCheck, 'threadId' | 'flushesDenormals' | 'soloFlushesDenormals' | 'stageMs'>[],
  tuning: SessionTuning,
  loneRequestThreads = 1,
): SelfCheckReport {
  const round = (x: number) => Math.round(x * 10) / 10;
  const warnings: string[] = [];
  for (const c of checks) {
    if (tuning.flushDenormals && !c.flushesDenormals) {
      warnings.push(`inference worker ${c.threadId} computes with denormal floats, which some CPUs run several times slower (docs/engine.md, "Denormals")`);
    }
    if (tuning.flushDenormals && c.soloFlushesDenormals === false) {
      warnings.push(`inference worker ${c.threadId} computes lone requests with denormal floats, which some CPUs run several times slower (docs/engine.md, "Denormals")`);
    }
    for (const stage of MODEL_STAGES) {
      const limit = EXPECTED_STAGE_MS[stage] * FAR_SLOWER;
      if (c.stageMs[stage] > limit) {
        warnings.push(
          `inference stage "${stage}" takes ${round(c.stageMs[stage])} ms on worker ${c.threadId}, over ${FAR_SLOWER}× the expected ` +
            `${EXPECTED_STAGE_MS[stage]} ms: check the CPU (npm run bench:latency prints its denormal sensitivity) and what else runs on this machine`,
        );
      }
    }
  }
  return {
    summary: {
      cpu: `${cpus()[0]?.model?.trim() ?? 'unknown'} × ${cpus().length}`,
      onnxruntime: ort.env.versions.node ?? 'unknown',
      tuning,
      loneRequestThreads,
      workers: checks.map((c) => ({
        thread: c.threadId,
        flushesDenormals: c.flushesDenormals,
        ...(c.soloFlushesDenormals !== undefined ? { soloFlushesDenormals: c.soloFlushesDenormals } : {}),
        stageMs: Object.fromEntries(MODEL_STAGES.map((s) => [s, round(c.stageMs[s])])) as Record<ModelStage, number>,
      })),
    },
    warnings,
  };
}
