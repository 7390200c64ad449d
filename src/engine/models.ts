import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { withFreeBatch } from './free-batch.js';

export type ModelName = 'detector' | 'landmarks' | 'embedder' | 'liveness' | 'pose';

export interface ModelEntry {
  name: ModelName;
  file: string;
  version: string;
  sha256: string;
  about: string;
}

/** A small model committed under models/ with its licence, taken from a public repository. */
export interface CommittedModelEntry {
  name: CommittedModelName;
  /** Relative to models/. */
  path: string;
  version: string;
  sha256: string;
  license: string;
  licenseFile: string;
  source: { repo: string; commit: string; path: string };
  about: string;
}

export type CommittedModelName = 'yunet';

export interface ModelManifest {
  source: { package: string; version: string; license: string; tarballSha256: string };
  models: ModelEntry[];
  committed: CommittedModelEntry[];
}

/** Finds `models/manifest.json` above this file, whether run from src/ (tsx) or dist/. */
function findModelsDir(): string {
  if (process.env.FACEREC_MODEL_DIR) return process.env.FACEREC_MODEL_DIR;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    if (existsSync(join(dir, 'models', 'manifest.json'))) return join(dir, 'models');
    dir = dirname(dir);
  }
  throw new Error('models/manifest.json not found above ' + fileURLToPath(import.meta.url));
}

export const MODELS_DIR = findModelsDir();
export const MANIFEST: ModelManifest = JSON.parse(readFileSync(join(MODELS_DIR, 'manifest.json'), 'utf8'));

const entry = (name: ModelName): ModelEntry => {
  const m = MANIFEST.models.find((x) => x.name === name);
  if (!m) throw new Error(`model ${name} missing from manifest`);
  return m;
};

/**
 * The version groups record. Two vectors are comparable only if this matches, so it names
 * everything that shapes a stored vector: the embedder and the alignment feeding it.
 */
export const MODEL_VERSION = `facerec-${entry('embedder').version}-align5`;

/**
 * Reads a model file once, checks it against the manifest's sha256 and returns the bytes that
 * were checked, so the session is built from exactly what was verified.
 */
function readVerifiedModel(m: ModelEntry | CommittedModelEntry): Uint8Array {
  const p = 'file' in m ? join(MODELS_DIR, 'onnx', m.file) : join(MODELS_DIR, m.path);
  if (!existsSync(p)) throw new Error('file' in m ? `model file ${p} is missing: run \`npm run models\` (npm install runs it)` : `model file ${p} is missing from the checkout`);
  const bytes = readFileSync(p);
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== m.sha256) throw new Error(`model file ${p} has sha256 ${got}, manifest says ${m.sha256}`);
  return bytes;
}

/** The ONNX Runtime settings every session of an engine shares; bench:throughput compares them. */
export interface SessionTuning {
  /** Threads one operator may use (ORT intra-op). 1 when the pool already runs one worker per core. */
  intraOpThreads: number;
  /** 'parallel' runs the graph on the session's own pool thread, 'sequential' on the calling thread (see `sessionOptions`). */
  executionMode: 'parallel' | 'sequential';
  graphOptimization: 'all' | 'extended' | 'basic' | 'disabled';
  /** ORT's CPU memory arena (reuses buffers between runs). */
  cpuArena: boolean;
  /** Flush denormal floats to zero (off only to measure what they cost). */
  flushDenormals: boolean;
  /**
   * Let ORT's pool threads spin while waiting for work. Each session has its own pool thread, so
   * a spinning one burns a core while a sibling session (or the other worker) needs it.
   */
  spinning: boolean;
  /**
   * With `spinning`: stop the pool threads spinning as soon as a run ends
   * (`session.force_spinning_stop`), so they spin only while there is work to hand them.
   */
  stopSpinningAfterRun: boolean;
}

export const DEFAULT_TUNING: SessionTuning = {
  intraOpThreads: 1,
  executionMode: 'sequential',
  graphOptimization: 'all',
  cpuArena: true,
  flushDenormals: true,
  spinning: false,
  stopSpinningAfterRun: false,
};

/**
 * The options every inference session is created with.
 *
 * Denormal floats: the embedder's optimised graph produces them, and some x86 CPUs (seen: Intel
 * Xeon with AVX-512) compute on them ~7× slower (embed 65 ms instead of 9). ORT flushes them to
 * zero when `session.set_denormal_as_zero` is set, but only on threads it knows: each session's own
 * pool threads, and the thread that initialises the *first* session of the process (a process-wide
 * once). Our workers are not ORT's threads, and in sequential mode a session computes on the
 * calling thread, so the flag alone leaves every worker but the first computing with denormals.
 * New threads inherit the floating-point mode of their creator: the pool therefore creates a first
 * session on its own thread before it spawns the workers (pool.ts), and every worker flushes.
 * Parallel mode would also cover them (it runs the graph on the session's pool thread) but halves
 * throughput on 2 cores (bench:throughput). `flushesDenormals` proves the flush per worker at
 * start-up and in tests.
 */
export function sessionOptions(tuning: Partial<SessionTuning> = {}): ort.InferenceSession.SessionOptions {
  const t = { ...DEFAULT_TUNING, ...tuning };
  return {
    intraOpNumThreads: t.intraOpThreads,
    interOpNumThreads: t.executionMode === 'parallel' ? 2 : 1, // 2 = the caller + one pool thread that runs the graph
    executionMode: t.executionMode,
    graphOptimizationLevel: t.graphOptimization,
    enableCpuMemArena: t.cpuArena,
    extra: {
      session: {
        ...(t.flushDenormals ? { set_denormal_as_zero: '1' } : {}),
        ...(t.spinning && t.stopSpinningAfterRun ? { force_spinning_stop: '1' } : {}),
        intra_op: { allow_spinning: t.spinning ? '1' : '0' },
        inter_op: { allow_spinning: t.spinning ? '1' : '0' },
      },
    },
  };
}

/**
 * The options of every inference session this thread created, in order: the self-check reports
 * them so a test can see that none (the lone-request sessions included) lacks the denormal flag.
 */
export const createdSessions: { model: string; options: ort.InferenceSession.SessionOptions }[] = [];

function create(model: string, bytes: Uint8Array, options: ort.InferenceSession.SessionOptions): Promise<ort.InferenceSession> {
  createdSessions.push({ model, options });
  return ort.InferenceSession.create(bytes, options);
}

export async function loadSession(name: ModelName, tuning: Partial<SessionTuning> = {}): Promise<ort.InferenceSession> {
  const bytes = readVerifiedModel(entry(name));
  // The embedder runs a photo's faces as one batch, the liveness model a crop and its mirror (free-batch.ts).
  return create(name, name === 'embedder' || name === 'liveness' ? withFreeBatch(bytes) : bytes, sessionOptions(tuning));
}

/** A session on a model committed under models/ (manifest `committed`), checked the same way. */
export async function loadCommittedSession(name: CommittedModelName, tuning: Partial<SessionTuning> = {}): Promise<ort.InferenceSession> {
  const m = (MANIFEST.committed ?? []).find((x) => x.name === name);
  if (!m) throw new Error(`model ${name} missing from the manifest's committed section`);
  return create(name, readVerifiedModel(m), sessionOptions(tuning));
}

export { ort };
