/**
 * Trains the mask probe (models/mask-probe.json) on a labelled folder, with group-aware k-fold CV.
 *
 *   npm run train:mask -- --data DIR [--out models/mask-probe.json] [--kinds patch,embedding,both]
 *
 * DIR holds images and a labels.csv with at least `file,label,group` (label with_mask|without_mask;
 * `subset` optional, for per-subset figures). Images with one group never span two folds.
 *
 * It refuses ../shared/eval: that data's README says "evaluation only. Do not train on them". Train
 * on a set licensed for training; bench/mask.ts then measures the result on the evaluation photos.
 * Also a library: bench/mask.ts reuses the labels reader, face pipeline, feature cache and metrics.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MODELS_DIR, MODEL_VERSION } from '../src/engine/models.js';
import { featureLength, maskFeatures, MASK_PROBE_FILE, type FeatureKind, type MaskProbe } from '../src/engine/mask.js';
import { progress } from '../bench/common.js';
import { AlignedFaces, isEvaluationData, readLabels, summaries, summaryTable, type LabelledImage, type Scored, type Summary } from '../bench/mask-sets.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** What one image gives every feature kind; `undefined` when no face was found. */
export interface ImageFeatures {
  patch: number[];
  skin: number[];
  embedding?: number[];
}

/** Bump when a feature's definition in src/engine/mask.ts changes, so old caches are not reused. */
const FEATURE_VERSION = 2;

/**
 * Features of every image, cached under scratch/ (git-ignored): numbers only, never pixels, since
 * the photos may not be copied. Keyed by folder, file size and mtime, model and feature version.
 */
export async function imageFeatures(dir: string, rows: LabelledImage[], withEmbedding: boolean): Promise<Map<string, ImageFeatures | undefined>> {
  const cachePath = join(ROOT, 'scratch', 'mask-features', createHash('sha1').update(resolve(dir)).digest('hex').slice(0, 16) + '.json');
  const stamp = `${MODEL_VERSION}/f${FEATURE_VERSION}`;
  const cache = loadCache(cachePath, stamp);
  const key = (file: string) => {
    const s = statSync(join(dir, file));
    return `${file}|${s.size}|${s.mtimeMs}`;
  };
  const todo = rows.filter((r) => {
    const hit = cache.entries[key(r.file)];
    return hit === undefined || (withEmbedding && hit !== null && !hit.embedding);
  });
  if (todo.length > 0) {
    const faces = await AlignedFaces.create();
    const bar = progress(todo.length, 'mask features');
    for (const r of todo) {
      cache.entries[key(r.file)] = await featuresOf(faces, readFileSync(join(dir, r.file)), withEmbedding);
      bar.tick();
    }
    bar.stop();
    mkdirSync(dirname(cachePath), { recursive: true });
    writeFileSync(cachePath, JSON.stringify(cache));
  }
  return new Map(rows.map((r) => [r.file, cache.entries[key(r.file)] ?? undefined]));
}

interface FeatureCache {
  stamp: string;
  entries: Record<string, ImageFeatures | null>;
}

function loadCache(path: string, stamp: string): FeatureCache {
  if (existsSync(path)) {
    const c = JSON.parse(readFileSync(path, 'utf8')) as FeatureCache;
    if (c.stamp === stamp) return c;
  }
  return { stamp, entries: {} };
}

async function featuresOf(faces: AlignedFaces, bytes: Uint8Array, withEmbedding: boolean): Promise<ImageFeatures | null> {
  const face = await faces.largest(bytes).catch(() => undefined);
  if (!face) return null;
  const { aligned } = face;
  const embedding = withEmbedding ? face.embedding : undefined;
  return {
    patch: maskFeatures('patch', { aligned }),
    skin: maskFeatures('skin', { aligned }),
    ...(embedding ? { embedding: Array.from(embedding, (v) => Math.round(v * 1e5) / 1e5) } : {}),
  };
}

export function vectorOf(kind: FeatureKind, f: ImageFeatures): number[] {
  if (kind === 'skin') return f.skin;
  if (kind === 'patch') return f.patch;
  if (!f.embedding) throw new Error('embedding features were not extracted');
  return kind === 'embedding' ? f.embedding : [...f.patch, ...f.embedding];
}

// ---- Logistic regression ------------------------------------------------------------------
// Written here rather than taken from npm: it is ~40 lines for a convex problem of a few hundred
// samples, and the npm options (ml-logistic-regression and kin) add a matrix library and fit
// one-vs-all without a documented L2 term or standardisation we could store alongside weights.

export interface LinearModel {
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
}

export function standardiser(X: number[][]): { mean: number[]; std: number[] } {
  const d = X[0].length, n = X.length;
  const mean = new Array<number>(d).fill(0), std = new Array<number>(d).fill(0);
  for (const x of X) for (let j = 0; j < d; j++) mean[j] += x[j] / n;
  for (const x of X) for (let j = 0; j < d; j++) std[j] += (x[j] - mean[j]) ** 2 / n;
  // A constant column (say a cell always outside the image) must not divide by zero.
  return { mean, std: std.map((v) => Math.sqrt(v) || 1) };
}

/**
 * Mean log-loss + (l2/2)·|w|² on standardised features, minimised by gradient descent with
 * Nesterov momentum. The objective is convex, so the plain method reaches the optimum.
 */
export function fitLogistic(X: number[][], y: boolean[], l2: number, iters = 400): LinearModel {
  const { mean, std } = standardiser(X);
  const Z = X.map((x) => x.map((v, j) => (v - mean[j]) / std[j]));
  const n = Z.length, d = mean.length;
  // Step 1/L with L bounding the Hessian: 0.25·(largest squared row norm) + l2.
  const L = 0.25 * Math.max(...Z.map((z) => z.reduce((s, v) => s + v * v, 1))) + l2;
  let w = new Array<number>(d + 1).fill(0), prev = w;
  for (let t = 1; t <= iters; t++) {
    const m = (t - 1) / (t + 2);
    const v = w.map((wi, j) => wi + m * (wi - prev[j]));
    const g = new Array<number>(d + 1).fill(0);
    for (let i = 0; i < n; i++) {
      const err = sigmoid(dot(v, Z[i])) - (y[i] ? 1 : 0);
      for (let j = 0; j < d; j++) g[j] += (err * Z[i][j]) / n;
      g[d] += err / n;
    }
    for (let j = 0; j < d; j++) g[j] += l2 * v[j];
    prev = w;
    w = v.map((vj, j) => vj - g[j] / L);
  }
  return { mean, std, weights: w.slice(0, d), bias: w[d] };
}

const sigmoid = (z: number) => 1 / (1 + Math.exp(-z));
/** Bias is the last coefficient. */
const dot = (w: number[], z: number[]) => z.reduce((s, v, j) => s + w[j] * v, w[z.length]);

export function predict(m: LinearModel, x: number[]): number {
  let z = m.bias;
  for (let j = 0; j < x.length; j++) z += (m.weights[j] * (x[j] - m.mean[j])) / m.std[j];
  return sigmoid(z);
}

// ---- Group-aware cross-validation ---------------------------------------------------------

/**
 * Fold of each row. Whole groups go to one fold (near-duplicates and people never straddle train
 * and test), dealt round-robin per class in a hash order so folds are balanced and reproducible.
 */
export function groupFolds(rows: { group: string; masked: boolean }[], k: number): number[] {
  const groups = new Map<string, boolean>();
  for (const r of rows) if (!groups.has(r.group)) groups.set(r.group, r.masked);
  const hash = (g: string) => createHash('sha1').update(g).digest('hex');
  const foldOf = new Map<string, number>();
  for (const cls of [true, false]) {
    const gs = [...groups].filter(([, m]) => m === cls).map(([g]) => g).sort((a, b) => hash(a).localeCompare(hash(b)));
    gs.forEach((g, i) => foldOf.set(g, i % k));
  }
  return rows.map((r) => foldOf.get(r.group)!);
}

const L2_GRID = [1e-3, 1e-2, 1e-1, 1];

/** L2 strength by an inner group CV on the training rows only, so the outer test fold stays unseen. */
function chooseL2(X: number[][], y: boolean[], groups: string[]): number {
  const folds = groupFolds(groups.map((group, i) => ({ group, masked: y[i] })), 3);
  let best = L2_GRID[0], bestLoss = Infinity;
  for (const l2 of L2_GRID) {
    let loss = 0;
    for (let f = 0; f < 3; f++) {
      const tr = folds.flatMap((g, i) => (g === f ? [] : [i]));
      const m = fitLogistic(tr.map((i) => X[i]), tr.map((i) => y[i]), l2, 200);
      folds.forEach((g, i) => {
        if (g === f) loss -= Math.log(Math.max(1e-9, y[i] ? predict(m, X[i]) : 1 - predict(m, X[i])));
      });
    }
    if (loss < bestLoss) { bestLoss = loss; best = l2; }
  }
  return best;
}

/** Out-of-fold probabilities for every image with a face. */
export function crossValidate(kind: FeatureKind, rows: LabelledImage[], feats: Map<string, ImageFeatures | undefined>, k = 5): Scored[] {
  const found = rows.filter((r) => feats.get(r.file));
  const X = found.map((r) => vectorOf(kind, feats.get(r.file)!));
  const folds = groupFolds(found, k);
  const p = new Array<number>(found.length);
  for (let f = 0; f < k; f++) {
    const tr = folds.flatMap((g, i) => (g === f ? [] : [i]));
    const l2 = chooseL2(tr.map((i) => X[i]), tr.map((i) => found[i].masked), tr.map((i) => found[i].group));
    const m = fitLogistic(tr.map((i) => X[i]), tr.map((i) => found[i].masked), l2);
    folds.forEach((g, i) => { if (g === f) p[i] = predict(m, X[i]); });
  }
  const byFile = new Map(found.map((r, i) => [r.file, p[i]]));
  return rows.map((r) => ({ subset: r.subset, masked: r.masked, probability: byFile.get(r.file) }));
}

// ---- Training entry point ---------------------------------------------------------------------

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const data = arg('data');
  if (!data) {
    console.error('usage: npm run train:mask -- --data DIR [--out FILE] [--kinds patch,embedding,both]');
    console.error('DIR: images + labels.csv (file,label,group[,subset]) licensed for training.');
    process.exit(2);
  }
  if (isEvaluationData(data)) {
    console.error(`${data} is evaluation data: its README says "evaluation only. Do not train on them".`);
    console.error('Train on a set licensed for training; measure the result with `npm run bench:mask`.');
    process.exit(2);
  }
  const kinds = (arg('kinds') ?? 'patch,embedding,both').split(',') as FeatureKind[];
  const rows = readLabels(data);
  const feats = await imageFeatures(data, rows, kinds.some((k) => k === 'embedding' || k === 'both'));

  console.log(`\nMask probe, ${rows.length} images from ${data}, 5-fold CV by group, threshold 0.5\n`);
  const cv: Record<string, Summary[]> = {};
  for (const kind of kinds) {
    cv[kind] = summaries(crossValidate(kind, rows, feats), 0.5);
    console.log(`features: ${kind} (${featureLength(kind)} numbers)`);
    console.log(summaryTable(cv[kind]) + '\n');
  }
  const pooled = (k: FeatureKind) => cv[k].at(-1)!.accuracy;
  const best = kinds.reduce((a, b) => (pooled(b) > pooled(a) ? b : a));
  writeProbe(arg('out') ?? join(MODELS_DIR, MASK_PROBE_FILE), best, rows, feats, data, cv);
}

function writeProbe(out: string, kind: FeatureKind, rows: LabelledImage[], feats: Map<string, ImageFeatures | undefined>, data: string, cv: Record<string, Summary[]>): void {
  const found = rows.filter((r) => feats.get(r.file));
  const X = found.map((r) => vectorOf(kind, feats.get(r.file)!));
  const y = found.map((r) => r.masked);
  const l2 = chooseL2(X, y, found.map((r) => r.group));
  const m = fitLogistic(X, y, l2);
  const round = (v: number[]) => v.map((x) => Number(x.toPrecision(5)));
  const probe: MaskProbe = {
    format: 'facerec-mask-probe/1',
    features: kind,
    mean: round(m.mean),
    std: round(m.std),
    weights: round(m.weights),
    bias: Number(m.bias.toPrecision(6)),
    threshold: 0.5,
    fitted: 'trained',
    trainedOn: `${found.length} images with a face (of ${rows.length}) from ${data}; L2 ${l2}`,
    date: new Date().toISOString().slice(0, 10),
    cv: { folds: 5, by: 'group', threshold: 0.5, results: cv },
  };
  writeFileSync(out, JSON.stringify(probe, null, 1) + '\n');
  console.log(`wrote ${out}: features '${kind}' (best pooled CV accuracy), L2 ${l2}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
