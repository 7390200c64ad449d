/**
 * Verification accuracy of the embedding pipeline on the labelled photos in the eval set.
 *
 *   npm run bench:accuracy
 *
 * Every image is analysed once (largest face, flip-averaged embedding as the engine is
 * configured) and the cosine scores are then reused by every table:
 *   1. LFW View-1 devtest pairs and 2. deepface's labelled pairs: 10-fold accuracy, AUC, TAR@FAR;
 *   3. all pairs over identities/ + distractors/: TAR at FAR 1e-2..1e-4 and EER;
 *   4. what each threshold of the 0-100 similarity scale (src/engine/similarity.ts) means there.
 * An image in which no face is found gets no embedding; every pair it is in scores -1, i.e. a
 * rejected genuine pair or a correctly rejected impostor pair, and the count is printed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { FaceEngine } from '../src/engine/engine.js';
import { cosine } from '../src/engine/embedder.js';
import { MATCH_THRESHOLD, fromSimilarity, toSimilarity } from '../src/engine/similarity.js';
import { evalDir, pct, printHeader, progress, table } from './common.js';

/** Score of a pair with a face-less image: below every cosine, so it never matches. */
export const NO_FACE_SCORE = -1;

export interface LabelledImage {
  /** Path relative to the eval root. */
  path: string;
  /** Identity: the folder name, e.g. `lfw__Abel_Pacheco`. */
  label: string;
}

export interface Pair {
  path1: string;
  path2: string;
  same: boolean;
}

export type Embeddings = Map<string, Float32Array | null>;

// ---------------------------------------------------------------------------------------------
// Data

/** identities/<label>/*.jpg and distractors/<label>/*.jpg, in a stable order. */
export function listImages(root: string): LabelledImage[] {
  const out: LabelledImage[] = [];
  for (const top of ['identities', 'distractors']) {
    for (const label of readdirSync(join(root, top)).sort()) {
      for (const file of readdirSync(join(root, top, label)).sort()) {
        if (/\.jpe?g$/i.test(file)) out.push({ path: `${top}/${label}/${file}`, label });
      }
    }
  }
  return out;
}

/** The pair CSVs: `path1,path2,same,...`; only the first three columns are read (paths hold no commas). */
export function readPairs(file: string): Pair[] {
  const lines = readFileSync(file, 'utf8').split(/\r?\n/).slice(1).filter((l) => l.trim() !== '');
  return lines.map((l) => {
    const [path1, path2, same] = l.split(',');
    return { path1, path2, same: same === '1' };
  });
}

/** Embeds each path once: the largest face's embedding, or null when no face is found. */
export async function embedAll(engine: FaceEngine, root: string, paths: string[]): Promise<Embeddings> {
  const out: Embeddings = new Map();
  const bar = progress(paths.length, 'embedding');
  for (const p of paths) {
    const result = await engine.analyze(readFileSync(join(root, p)), { embed: true, maxFaces: 1 });
    out.set(p, result.faces[0]?.embedding ?? null);
    bar.tick();
  }
  bar.stop();
  return out;
}

export function scorePair(emb: Embeddings, a: string, b: string): number {
  const ea = emb.get(a);
  const eb = emb.get(b);
  if (ea === undefined || eb === undefined) throw new Error(`not embedded: ${ea === undefined ? a : b}`);
  return ea && eb ? cosine(ea, eb) : NO_FACE_SCORE;
}

// ---------------------------------------------------------------------------------------------
// Metrics. Scores are "higher = more alike"; a pair is accepted when score >= threshold.

/** Threshold maximising accuracy on the given scores: a midpoint between two sorted scores. */
export function bestThreshold(genuine: number[], impostor: number[]): number {
  const all = [...genuine.map((s) => ({ s, g: 1 })), ...impostor.map((s) => ({ s, g: 0 }))].sort((x, y) => x.s - y.s);
  // Threshold below everything: all accepted, so the correct ones are the genuine pairs.
  let correct = genuine.length;
  let best = correct;
  let bestT = all.length ? all[0].s - 1e-6 : 0;
  for (let i = 0; i < all.length; i++) {
    correct += all[i].g ? -1 : 1; // all[i] moves from accepted to rejected
    if (i + 1 < all.length && all[i + 1].s === all[i].s) continue; // cannot split ties
    if (correct > best) {
      best = correct;
      bestT = i + 1 < all.length ? (all[i].s + all[i + 1].s) / 2 : all[i].s + 1e-6;
    }
  }
  return bestT;
}

/**
 * k-fold accuracy as in the LFW protocol: the threshold is chosen on k-1 folds and tested on the
 * held-out one. Folds are contiguous blocks of each class in file order (the lists are sorted by
 * name, so a person's pairs mostly stay in one fold), which keeps every fold balanced.
 */
export function kFoldAccuracy(pairs: { score: number; same: boolean }[], k = 10): { mean: number; std: number } {
  const fold = new Array<number>(pairs.length);
  for (const same of [true, false]) {
    const idx = pairs.map((p, i) => (p.same === same ? i : -1)).filter((i) => i >= 0);
    idx.forEach((i, j) => (fold[i] = Math.floor((j * k) / idx.length)));
  }
  const accs: number[] = [];
  for (let f = 0; f < k; f++) {
    const train = pairs.filter((_, i) => fold[i] !== f);
    const test = pairs.filter((_, i) => fold[i] === f);
    const t = bestThreshold(train.filter((p) => p.same).map((p) => p.score), train.filter((p) => !p.same).map((p) => p.score));
    accs.push(test.filter((p) => p.score >= t === p.same).length / test.length);
  }
  const mean = accs.reduce((a, b) => a + b, 0) / k;
  const std = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / k);
  return { mean, std };
}

/** Area under the ROC curve: P(genuine score > impostor score), ties counting one half. */
export function auc(genuine: ArrayLike<number>, impostor: ArrayLike<number>): number {
  const imp = Float64Array.from(impostor).sort();
  let sum = 0;
  for (let i = 0; i < genuine.length; i++) {
    const lo = countBelow(imp, genuine[i]);
    const hi = countAtOrBelow(imp, genuine[i]);
    sum += lo + (hi - lo) / 2;
  }
  return sum / (genuine.length * imp.length);
}

/** Sorted ascending copy, for the threshold queries below. */
export const sortedScores = (xs: ArrayLike<number>): Float64Array => Float64Array.from(xs).sort();

/** Number of entries of ascending `xs` that are < t. */
export function countBelow(xs: Float64Array, t: number): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Number of entries of ascending `xs` that are <= t. */
export function countAtOrBelow(xs: Float64Array, t: number): number {
  let lo = 0, hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Fraction of ascending `xs` accepted (>= t). */
export const acceptRate = (xs: Float64Array, t: number): number => (xs.length - countBelow(xs, t)) / xs.length;

/**
 * TAR at a false-accept rate: the lowest threshold accepting at most far*N impostors. Undefined
 * when the set has fewer than 1/far impostors, where the figure would only say "no impostor
 * accepted" and nothing about the rate.
 */
export function tarAtFar(gen: Float64Array, imp: Float64Array, far: number): { tar: number; threshold: number } | undefined {
  const allowed = Math.floor(far * imp.length);
  if (allowed < 1) return undefined;
  // Accept strictly above the (allowed+1)-th highest impostor, so at most `allowed` get through.
  const threshold = nextUp(imp[imp.length - 1 - allowed]);
  return { tar: acceptRate(gen, threshold), threshold };
}

/** Equal error rate: where the false-reject and false-accept rates cross (their mean there). */
export function eer(gen: Float64Array, imp: Float64Array): { eer: number; threshold: number } {
  let lo = 0, hi = gen.length - 1;
  // FRR at threshold gen[i] is i/G (rising in i), FAR falls: find the first i where FRR >= FAR.
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (mid / gen.length >= acceptRate(imp, gen[mid])) hi = mid;
    else lo = mid + 1;
  }
  const t = gen[lo];
  return { eer: (lo / gen.length + acceptRate(imp, t)) / 2, threshold: t };
}

/** Smallest double above x, so that ">= nextUp(x)" means "> x". */
function nextUp(x: number): number {
  const b = new Float64Array([x]);
  const u = new BigInt64Array(b.buffer);
  if (x === 0) return Number.MIN_VALUE;
  u[0] += x > 0 ? 1n : -1n;
  return b[0];
}

// ---------------------------------------------------------------------------------------------
// Tables

export interface PairSetResult {
  name: string;
  pairs: number;
  genuine: number;
  impostor: number;
  noFaceImages: number;
  accuracy: { mean: number; std: number };
  auc: number;
  tar: Map<number, { tar: number; threshold: number } | undefined>;
}

const PAIR_FARS = [1e-2, 1e-3];
const POOLED_FARS = [1e-2, 1e-3, 1e-4];

export function evaluatePairs(name: string, pairs: Pair[], emb: Embeddings): PairSetResult {
  const scored = pairs.map((p) => ({ score: scorePair(emb, p.path1, p.path2), same: p.same }));
  const gen = sortedScores(scored.filter((p) => p.same).map((p) => p.score));
  const imp = sortedScores(scored.filter((p) => !p.same).map((p) => p.score));
  const images = new Set(pairs.flatMap((p) => [p.path1, p.path2]));
  return {
    name,
    pairs: pairs.length,
    genuine: gen.length,
    impostor: imp.length,
    noFaceImages: [...images].filter((p) => emb.get(p) === null).length,
    accuracy: kFoldAccuracy(scored),
    auc: auc(gen, imp),
    tar: new Map(PAIR_FARS.map((f) => [f, tarAtFar(gen, imp, f)])),
  };
}

const fmtTar = (r: { tar: number; threshold: number } | undefined, impostors: number): string =>
  r ? `${pct(r.tar)} (cos ≥ ${r.threshold.toFixed(3)})` : `n/a: ${impostors} impostors`;

function pairTable(results: PairSetResult[]): string {
  return table(
    ['pair set', 'pairs (same/diff)', 'no-face images', '10-fold accuracy', 'AUC', ...PAIR_FARS.map((f) => `TAR @ FAR ${f}`)],
    results.map((r) => [
      r.name,
      `${r.pairs} (${r.genuine}/${r.impostor})`,
      r.noFaceImages,
      `${pct(r.accuracy.mean)} ± ${pct(r.accuracy.std)}`,
      r.auc.toFixed(4),
      ...PAIR_FARS.map((f) => fmtTar(r.tar.get(f), r.impostor)),
    ]),
  );
}

export interface PooledScores {
  gen: Float64Array;
  imp: Float64Array;
}

/** Every genuine pair within an identity and every impostor pair across identities. */
export function pooledScores(images: LabelledImage[], emb: Embeddings): PooledScores {
  const n = images.length;
  const vecs = images.map((im) => emb.get(im.path) ?? null);
  const gen: number[] = [];
  const imp = new Float64Array((n * (n - 1)) / 2);
  let m = 0;
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      const a = vecs[i], b = vecs[j];
      const s = a && b ? cosine(a, b) : NO_FACE_SCORE;
      if (images[i].label === images[j].label) gen.push(s);
      else imp[m++] = s;
    }
  }
  return { gen: sortedScores(gen), imp: imp.subarray(0, m).sort() };
}

function pooledTable(p: PooledScores, noFace: number, images: number): string {
  const e = eer(p.gen, p.imp);
  return table(
    ['images (no face)', 'genuine pairs', 'impostor pairs', ...POOLED_FARS.map((f) => `TAR @ FAR ${f}`), 'EER'],
    [[
      `${images} (${noFace})`,
      p.gen.length,
      p.imp.length,
      ...POOLED_FARS.map((f) => fmtTar(tarAtFar(p.gen, p.imp, f), p.imp.length)),
      `${pct(e.eer)} (cos ${e.threshold.toFixed(3)})`,
    ]],
  );
}

function similarityTable(p: PooledScores): string {
  const rows: (string | number)[][] = [];
  for (let s = 50; s <= 95; s += 5) {
    const c = fromSimilarity(s);
    const accepted = p.imp.length - countBelow(p.imp, c);
    rows.push([
      s === MATCH_THRESHOLD ? `${s} (default)` : s,
      c.toFixed(3),
      `${(accepted / p.imp.length).toExponential(1)} (${accepted})`,
      pct(acceptRate(p.gen, c)),
    ]);
  }
  return table(['similarity ≥', 'cosine ≥', 'FAR (impostor pairs accepted)', 'TAR'], rows);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const root = evalDir();
  printHeader('Face verification accuracy (largest face per image, cosine of embeddings)');
  const images = listImages(root);
  const lfw = readPairs(join(root, 'pairs', 'lfw_devtest_pairs.csv'));
  const deepface = readPairs(join(root, 'pairs', 'deepface_pairs.csv'));
  const paths = [...new Set([...images.map((i) => i.path), ...[...lfw, ...deepface].flatMap((p) => [p.path1, p.path2])])];

  const engine = await FaceEngine.create();
  const t0 = Date.now();
  const emb = await embedAll(engine, root, paths);
  console.log(`embedded ${paths.length} images in ${((Date.now() - t0) / 1000).toFixed(0)} s (model ${engine.modelVersion})\n`);

  console.log('Labelled pair lists (threshold chosen on 9 folds, tested on the 10th):');
  console.log(pairTable([evaluatePairs('LFW View-1 devtest', lfw, emb), evaluatePairs('deepface', deepface, emb)]));

  const noFace = paths.filter((p) => emb.get(p) === null);
  const pooled = pooledScores(images, emb);
  console.log('\nAll pairs over identities/ + distractors/:');
  console.log(pooledTable(pooled, images.filter((i) => emb.get(i.path) === null).length, images.length));

  console.log(`\nSimilarity scale (src/engine/similarity.ts; toSimilarity(1) = ${toSimilarity(1)}) on the same pairs:`);
  console.log(similarityTable(pooled));
  if (noFace.length) console.log(`\nNo face found in: ${noFace.join(', ')}`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
