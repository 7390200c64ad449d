/**
 * The 0–100 similarity score reported everywhere (compare, search, verify), and its inverse.
 *
 * Raw cosine similarity between embeddings says little to a caller: 0.34 sounds like "not similar"
 * yet is where one impostor pair in a thousand already scores. The score is instead laid out so
 * that a threshold reads as a false-accept rate: **every 10 points above 50 is ten times fewer
 * false accepts** (50 ≈ 1 in 10, 60 ≈ 1 in 100, 70 ≈ 1 in 1,000, 80 ≈ 1 in 10,000 impostor pairs
 * accepted).
 *
 * The map is piecewise linear in cosine between the anchors below, hence monotone and exactly
 * invertible; 0 for cosine ≤ 0, 100 at cosine 1. The anchor cosines are the impostor-score
 * quantiles measured by `npm run bench:accuracy` (embedder fr512-1, 5-point alignment) over all
 * 1.47 M impostor pairs among the 1,719 images of the eval set's identities/ and distractors/,
 * rounded to two decimals (the measured values vary by less than 0.002 between flip-averaging on
 * and off and between largest-face and main-face selection):
 *
 *   FAR 0.5  cosine 0.005  → the floor: cosine 0 ↦ 0  (about half of all impostor pairs score ≤ 0)
 *   FAR 1e-1 cosine 0.129  → 0.13 ↦ 50
 *   FAR 1e-2 cosine 0.243  → 0.24 ↦ 60
 *   FAR 1e-3 cosine 0.337  → 0.34 ↦ 70
 *   FAR 1e-4 cosine 0.421  → 0.42 ↦ 80
 *   FAR 1e-5 (extrapolated) 0.50 ↦ 90: the cosine step per decade shrinks (0.114, 0.094, 0.084),
 *            so the next is about 0.08. 1.47 M pairs cannot pin 1e-5 down: 16 of the impostor
 *            pairs above 0.5 (deepface__id12 × lfw__Leonardo_DiCaprio, cosines 0.60–0.77) look
 *            like one person under two sources' labels. Measured at 0.50: 27–29 pairs (1.9e-5),
 *            11–13 (≈ 8e-6) without those 16.
 *   cosine 1 ↦ 100 (identical embeddings)
 *
 * The rates hold for photos like the calibration set (LFW news photos, mostly frontal, mostly
 * adults); they will differ for other populations and capture conditions. If the embedder or the
 * alignment changes (a new MODEL_VERSION), re-run the benchmark and re-derive the anchors.
 */

interface Anchor {
  readonly cosine: number;
  readonly similarity: number;
}

/** (cosine, similarity) knots, strictly increasing in both. See the file comment for their origin. */
export const SIMILARITY_ANCHORS: readonly Anchor[] = [
  { cosine: 0, similarity: 0 },
  { cosine: 0.13, similarity: 50 },
  { cosine: 0.24, similarity: 60 },
  { cosine: 0.34, similarity: 70 },
  { cosine: 0.42, similarity: 80 },
  { cosine: 0.5, similarity: 90 },
  { cosine: 1, similarity: 100 },
];

/**
 * Default match threshold on the 0–100 scale: about 1 false accept in 10,000 impostor pairs
 * (TAR ≈ 96–97 % on the calibration set). 1e-4 rather than 1e-3 because 1:N search multiplies
 * the per-pair rate by the gallery size: against 1,000 enrolled faces a non-mated probe would
 * match someone ~63 % of the time at 1e-3 and ~10 % at 1e-4.
 */
export const MATCH_THRESHOLD = 80;

/** Cosine similarity of two L2-normalised embeddings → 0–100 score (not rounded). */
export function toSimilarity(cosine: number): number {
  const a = SIMILARITY_ANCHORS;
  if (!(cosine > a[0].cosine)) return a[0].similarity; // also maps NaN to 0
  for (let i = 1; i < a.length; i++) {
    if (cosine <= a[i].cosine) return lerp(cosine, a[i - 1].cosine, a[i].cosine, a[i - 1].similarity, a[i].similarity);
  }
  return a[a.length - 1].similarity;
}

/**
 * The inverse: the lowest cosine whose score is ≥ `similarity`, so that `toSimilarity(c) >= s`
 * exactly when `c >= fromSimilarity(s)` (up to float rounding). A threshold of 0 or less accepts
 * everything, so it maps to -1, the lowest possible cosine.
 */
export function fromSimilarity(similarity: number): number {
  const a = SIMILARITY_ANCHORS;
  if (similarity <= a[0].similarity) return -1;
  for (let i = 1; i < a.length; i++) {
    if (similarity <= a[i].similarity) return lerp(similarity, a[i - 1].similarity, a[i].similarity, a[i - 1].cosine, a[i].cosine);
  }
  return a[a.length - 1].cosine;
}

const lerp = (x: number, x0: number, x1: number, y0: number, y1: number): number => y0 + ((x - x0) * (y1 - y0)) / (x1 - x0);
