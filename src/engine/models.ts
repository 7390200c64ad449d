import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';

export type ModelName = 'detector' | 'landmarks' | 'embedder' | 'liveness' | 'pose';

export interface ModelEntry {
  name: ModelName;
  file: string;
  version: string;
  sha256: string;
  about: string;
}

export interface ModelManifest {
  source: { package: string; version: string; license: string; tarballSha256: string };
  models: ModelEntry[];
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
function readVerifiedModel(m: ModelEntry): Uint8Array {
  const p = join(MODELS_DIR, 'onnx', m.file);
  if (!existsSync(p)) throw new Error(`model file ${p} is missing: run \`npm run models\` (npm install runs it)`);
  const bytes = readFileSync(p);
  const got = createHash('sha256').update(bytes).digest('hex');
  if (got !== m.sha256) throw new Error(`model file ${p} has sha256 ${got}, manifest says ${m.sha256}`);
  return bytes;
}

/**
 * One ORT thread per session: parallelism comes from the worker pool (one worker per core),
 * and ORT's own thread pool would only fight it for the same cores.
 */
export async function loadSession(name: ModelName, threads = 1): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(readVerifiedModel(entry(name)), {
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
}

export { ort };
