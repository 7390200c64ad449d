/**
 * Verification accuracy of the embedding pipeline on the labelled photos in the eval set.
 *
 *   npm run bench:accuracy [-- --flip] [-- --lead central] [-- --detector yunet|rfb320|rfb320+yunet]
 *
 * Every image is analysed once (all faces embedded, as the engine is configured; --flip adds the
 * mirrored face's embedding, which the engine does not do by default) and the cosine scores are
 * then reused by every table:
 *   1. LFW View-1 devtest pairs and 2. deepface's labelled pairs: 10-fold accuracy, AUC, TAR@FAR;
 *   3. all pairs over identities/ + distractors/: TAR at FAR 1e-2..1e-4 and EER;
 *   4. what each threshold of the 0-100 similarity scale (src/engine/similarity.ts) means there.
 *
 * Which face of a photo is "the" face is reported both ways, because it decides most LFW errors:
 *   - engine: the engine's first face, what compare/verify/search use: the largest by the area of
 *     its box inside the image, as NHN specifies (engine.ts orderFaces);
 *   - main: the face with the highest area - 2 * (distance of its centre from the image centre)^2,
 *     insightface's rule for picking the main face. LFW photos are centred on the labelled person,
 *     and a neighbour at the side can have a slightly larger box than the subject;
 *   - compare (pair lists only): the engine face of the first photo against every face of the
 *     second, the best score, as a client of compare would read it.
 * An image in which no face is found gets no embedding; every pair it is in scores -1, i.e. a
 * rejected genuine pair or a correctly rejected impostor pair, and the count is printed.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../src/config.js';
import { FaceEngine, type AnalyzeResult, type LeadFaceRule } from '../src/engine/engine.js';
import { cosine } from '../src/engine/vectors.js';
import { MATCH_THRESHOLD, fromSimilarity } from '../src/engine/similarity.js';
import { evalDir, pct, printHeader, progress, table } from './common.js';
import { MAX_RECOGNIZABLE_ANGLE, MIN_RECOGNIZABLE_FACE } from '../src/engine/quality.js';

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

/** One embedding per image path (null: no face found). */
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

/** Analyses each path once, embedding every face; the engine returns them largest first. */
export async function analyzeAll(engine: FaceEngine, root: string, paths: string[]): Promise<Map<string, AnalyzeResult>> {
  const out = new Map<string, AnalyzeResult>();
  const bar = progress(paths.length, 'embedding');
  for (const p of paths) {
    out.set(p, await engine.analyze(readFileSync(join(root, p)), { embed: true }));
    bar.tick();
  }
  bar.stop();
  return out;
}

export type FaceChoice = 'engine' | 'main';

/** Index of the face `choice` picks, or -1 when there is none. */
export function chooseFace(r: AnalyzeResult, choice: FaceChoice): number {
  if (choice === 'engine' || r.faces.length < 2) return r.faces.length ? 0 : -1;
  const value = (b: AnalyzeResult['faces'][number]['box']) =>
    b.width * b.height - 2 * ((b.x + b.width / 2 - r.width / 2) ** 2 + (b.y + b.height / 2 - r.height / 2) ** 2);
  let best = 0;
  r.faces.forEach((f, i) => {
    if (value(f.box) > value(r.faces[best].box)) best = i;
  });
  return best;
}

export function pickEmbeddings(results: Map<string, AnalyzeResult>, choice: FaceChoice): Embeddings {
  const out: Embeddings = new Map();
  for (const [p, r] of results) out.set(p, r.faces[chooseFace(r, choice)]?.embedding ?? null);
  return out;
}

/**
 * What a client of compare sees: the first image's lead face (faces[0]) against every face of
 * the second, the best score. Verify and search by image use the lead face of both sides.
 */
export function compareScore(results: Map<string, AnalyzeResult>, a: string, b: string): number {
  const lead = results.get(a)?.faces[0]?.embedding;
  const targets = (results.get(b)?.faces ?? []).flatMap((f) => (f.embedding ? [f.embedding] : []));
  if (!lead || targets.length === 0) return NO_FACE_SCORE;
  return Math.max(...targets.map((t) => cosine(lead, t)));
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
  const frr = (t: number) => countBelow(gen, t) / gen.length;
  // Over the genuine scores as thresholds FRR rises and FAR falls: find the first where FRR >= FAR.
  let lo = 0, hi = gen.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (frr(gen[mid]) >= acceptRate(imp, gen[mid])) hi = mid;
    else lo = mid + 1;
  }
  const t = gen[lo];
  return { eer: (frr(t) + acceptRate(imp, t)) / 2, threshold: t };
}

/** Smallest double above x, so that ">= nextUp(x)" means "> x". */
function nextUp(x: number): number {
  if (x === 0) return Number.MIN_VALUE;
  const b = new Float64Array([x]);
  const u = new BigInt64Array(b.buffer);
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
const CHOICES: FaceChoice[] = ['engine', 'main'];

export function evaluatePairs(name: string, pairs: Pair[], emb: Embeddings, score = (a: string, b: string) => scorePair(emb, a, b)): PairSetResult {
  const scored = pairs.map((p) => ({ score: score(p.path1, p.path2), same: p.same }));
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
  r ? `${pct(r.tar)} (cos ≥ ${r.threshold.toFixed(3)})` : `n/a (${impostors} impostors)`;

/** `face` is a FaceChoice, or 'compare' for compareScore's rows. */
function pairTable(rows: { choice: FaceChoice | 'compare'; r: PairSetResult }[]): string {
  return table(
    ['pair set', 'face', 'pairs (same/diff)', 'no-face images', '10-fold accuracy', 'AUC', ...PAIR_FARS.map((f) => `TAR @ FAR ${f}`)],
    rows.map(({ choice, r }) => [
      r.name,
      choice,
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

function pooledTable(rows: { choice: FaceChoice; p: PooledScores; noFace: number }[], images: number): string {
  return table(
    ['face', 'images (no face)', 'genuine pairs', 'impostor pairs', ...POOLED_FARS.map((f) => `TAR @ FAR ${f}`), 'EER'],
    rows.map(({ choice, p, noFace }) => {
      const e = eer(p.gen, p.imp);
      return [
        choice,
        `${images} (${noFace})`,
        p.gen.length,
        p.imp.length,
        ...POOLED_FARS.map((f) => fmtTar(tarAtFar(p.gen, p.imp, f), p.imp.length)),
        `${pct(e.eer)} (cos ${e.threshold.toFixed(3)})`,
      ];
    }),
  );
}

/** FAR and TAR at each threshold of the 0-100 scale; FAR is shown for the engine's face. */
function similarityTable(engine: PooledScores, main: PooledScores): string {
  const rows: (string | number)[][] = [];
  for (let s = 50; s <= 95; s += 5) {
    const c = fromSimilarity(s);
    const accepted = engine.imp.length - countBelow(engine.imp, c);
    rows.push([
      s === MATCH_THRESHOLD ? `${s} (default)` : s,
      c.toFixed(3),
      `${(accepted / engine.imp.length).toExponential(1)} (${accepted})`,
      pct(acceptRate(engine.gen, c)),
      pct(acceptRate(main.gen, c)),
    ]);
  }
  return table(['similarity ≥', 'cosine ≥', 'FAR (impostor pairs accepted)', 'TAR, engine face', 'TAR, main face'], rows);
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const root = evalDir();
  const flipAverage = process.argv.includes('--flip');
  printHeader(`Face verification accuracy (cosine of embeddings, flip-averaging ${flipAverage ? 'on' : 'off'})`);
  const images = listImages(root);
  const lfw = readPairs(join(root, 'pairs', 'lfw_devtest_pairs.csv'));
  const deepface = readPairs(join(root, 'pairs', 'deepface_pairs.csv'));
  const paths = [...new Set([...images.map((i) => i.path), ...[...lfw, ...deepface].flatMap((p) => [p.path1, p.path2])])];

  // --lead central: the opt-in lead-face rule (engine.ts orderFaces), to measure what it is worth.
  const leadFace: LeadFaceRule = process.argv.includes('--lead') && process.argv[process.argv.indexOf('--lead') + 1] === 'central' ? 'central' : 'largest';
  // --detector: a FACEREC_DETECTOR setting other than the default, to measure what it costs here.
  const detectors = loadConfig({ FACEREC_DETECTOR: process.argv.includes('--detector') ? process.argv[process.argv.indexOf('--detector') + 1] : undefined }).detectors;
  const engine = await FaceEngine.create({ flipAverage, leadFace, detectors });
  console.log(`lead face rule: ${leadFace}; detectors: ${detectors}`);
  const t0 = Date.now();
  const results = await analyzeAll(engine, root, paths);
  console.log(`analysed ${paths.length} images in ${((Date.now() - t0) / 1000).toFixed(0)} s (model ${engine.modelVersion})\n`);
  const emb = new Map(CHOICES.map((c) => [c, pickEmbeddings(results, c)]));
  const differ = paths.filter((p) => chooseFace(results.get(p)!, 'main') > 0);
  console.log(`The two face choices differ on ${differ.length} of ${paths.length} images${differ.length ? ': ' + differ.join(', ') : ''}.\n`);

  console.log('Labelled pair lists (10-fold: threshold chosen on 9 folds, tested on the 10th):');
  const pairSets: [string, Pair[]][] = [['LFW View-1 devtest', lfw], ['deepface', deepface]];
  console.log(pairTable(pairSets.flatMap(([name, pairs]) => CHOICES.map((choice) => ({ choice, r: evaluatePairs(name, pairs, emb.get(choice)!) })))));
  console.log('Through compare (the engine face of the first photo against every face of the second, best score):');
  console.log(
    pairTable(pairSets.map(([name, pairs]) => ({ choice: 'compare' as const, r: evaluatePairs(name, pairs, emb.get('engine')!, (x, y) => compareScore(results, x, y)) }))),
  );

  const pooled = new Map(CHOICES.map((c) => [c, pooledScores(images, emb.get(c)!)]));
  console.log('\nAll pairs over identities/ + distractors/:');
  console.log(pooledTable(
    CHOICES.map((choice) => ({ choice, p: pooled.get(choice)!, noFace: images.filter((i) => emb.get(choice)!.get(i.path) === null).length })),
    images.length,
  ));

  console.log(`\nSimilarity scale (src/engine/similarity.ts; 100 = cosine 1, default threshold ${MATCH_THRESHOLD}) on the same pairs:`);
  console.log(similarityTable(pooled.get('engine')!, pooled.get('main')!));
  console.log(eligibilityReport(images, results, emb.get('engine')!));
  const noFace = paths.filter((p) => results.get(p)!.faces.length === 0);
  if (noFace.length) console.log(`\nNo face found in: ${noFace.join(', ')}`);
}

/**
 * NHN's rule (faces under 60 px or turned beyond 45° are not eligible): how many engine faces it
 * excludes, and the all-pairs figures if those images could not be enrolled or searched at all.
 */
function eligibilityReport(images: LabelledImage[], results: Map<string, AnalyzeResult>, emb: Embeddings): string {
  const face = (p: string) => results.get(p)!.faces[chooseFace(results.get(p)!, 'engine')];
  const small = images.filter((i) => face(i.path) && face(i.path).quality.faceSize < MIN_RECOGNIZABLE_FACE).length;
  const turned = images.filter((i) => face(i.path) && !face(i.path).quality.recognizable && face(i.path).quality.faceSize >= MIN_RECOGNIZABLE_FACE).length;
  const eligibleOnly: Embeddings = new Map([...emb].map(([p, e]) => [p, e && face(p)?.quality.recognizable ? e : null]));
  const all = pooledScores(images, emb);
  const strict = pooledScores(images, eligibleOnly);
  const row = (name: string, ps: PooledScores) => [name, ...[1e-3, 1e-4].map((f) => { const t = tarAtFar(ps.gen, ps.imp, f); return t ? pct(t.tar) : 'n/a'; })];
  return (
    `\nNHN eligibility (face >= ${MIN_RECOGNIZABLE_FACE} px, |yaw| and |pitch| <= ${MAX_RECOGNIZABLE_ANGLE} deg): of ${images.length} images, ` +
    `${small} have a smaller face and ${turned} a face turned further; treating those as unusable:\n` +
    table(['faces used', 'TAR @ FAR 0.001', 'TAR @ FAR 0.0001'], [row('all', all), row('eligible only (others rejected)', strict)])
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
