/**
 * Face-mask flag: a logistic model over features of the ArcFace-aligned 112x112 face, read from
 * models/mask-probe.json. The same file format holds a hand-set model (what ships now, see the
 * file's `fitted` and `notes`) or one written by scripts/train-mask.ts from a training set.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MODELS_DIR } from './models.js';

export interface MaskInput {
  aligned: Uint8Array;
  embedding?: Float32Array;
}

export interface MaskResult {
  masked: boolean;
  probability: number;
}

/**
 * - `skin`: how much of the nose-to-chin area looks like this face's skin (1 number);
 * - `patch`: a coarse colour patch of that area, relative to the forehead colour, plus skin fractions;
 * - `embedding`: the 512-d identity embedding;
 * - `both`: `patch` then `embedding`.
 */
export type FeatureKind = 'skin' | 'patch' | 'embedding' | 'both';

export interface MaskProbe {
  format: 'facerec-mask-probe/1';
  features: FeatureKind;
  /** Standardisation applied before the weights: (x - mean) / std. */
  mean: number[];
  std: number[];
  weights: number[];
  bias: number;
  /** `masked` is probability >= threshold. */
  threshold: number;
  /** 'hand-set': weights chosen by reasoning, fitted to no data; 'trained': by scripts/train-mask.ts. */
  fitted: 'hand-set' | 'trained';
  trainedOn: string;
  date: string;
  notes?: string;
  cv?: unknown;
}

export const MASK_PROBE_FILE = 'mask-probe.json';

/**
 * Which probe sets the mask flag (FACEREC_MASK_MODEL): 'rule', the hand-set skin rule (default:
 * it rarely calls a bare face masked), or 'synthetic', the probe trained on masks painted on
 * licensed photos (catches far more masks, flags more bare tight crops; docs/engine.md "Mask").
 */
export const MASK_MODELS = ['rule', 'synthetic'] as const;
export type MaskModel = (typeof MASK_MODELS)[number];
export const DEFAULT_MASK_MODEL: MaskModel = 'rule';
const MASK_MODEL_FILES: Record<MaskModel, string> = { rule: MASK_PROBE_FILE, synthetic: 'mask-probe-synthetic.json' };
export const maskModelFile = (model: MaskModel): string => MASK_MODEL_FILES[model];

export const usesEmbedding = (kind: FeatureKind): boolean => kind === 'embedding' || kind === 'both';

export class MaskClassifier {
  readonly needsEmbedding: boolean;

  constructor(readonly probe: MaskProbe) {
    checkProbe(probe);
    this.needsEmbedding = usesEmbedding(probe.features);
  }

  static forModel(model: MaskModel): MaskClassifier {
    return MaskClassifier.load(join(MODELS_DIR, maskModelFile(model)));
  }

  static load(path = join(MODELS_DIR, MASK_PROBE_FILE)): MaskClassifier {
    if (!existsSync(path)) throw new Error(`mask model ${path} is missing (it is committed with the project)`);
    return new MaskClassifier(JSON.parse(readFileSync(path, 'utf8')) as MaskProbe);
  }

  classify(input: MaskInput): MaskResult {
    const probability = this.probability(maskFeatures(this.probe.features, input));
    return { masked: probability >= this.probe.threshold, probability };
  }

  probability(features: ArrayLike<number>): number {
    const { mean, std, weights, bias } = this.probe;
    let z = bias;
    for (let i = 0; i < weights.length; i++) z += (weights[i] * (features[i] - mean[i])) / std[i];
    return 1 / (1 + Math.exp(-z));
  }
}

/** A wrong-sized file would otherwise give NaN probabilities on every face, silently. */
function checkProbe(p: MaskProbe): void {
  if (p.format !== 'facerec-mask-probe/1') throw new Error(`mask model: unknown format ${String(p.format)}`);
  const d = featureLength(p.features);
  for (const k of ['mean', 'std', 'weights'] as const) {
    if (!Array.isArray(p[k]) || p[k].length !== d) throw new Error(`mask model: ${k} must have ${d} numbers for '${p.features}'`);
  }
  if (p.std.some((s) => !(s > 0))) throw new Error('mask model: std must be positive');
}

// ---- Features of the aligned face -------------------------------------------------------

const SIZE = 112;
/** [x0, y0, x1, y1) in the ArcFace template (eyes at y≈52, nose tip y≈72, mouth y≈92). */
type Rect = readonly [number, number, number, number];
/** Below the nose tip to the chin: the part a worn mask covers and a bare face shows as skin and lips. */
const LOWER: Rect = [32, 78, 80, 108];
/** Forehead and brows: above any worn mask, so it gives this face's own skin colour under this light. */
const FOREHEAD: Rect = [28, 18, 84, 44];
/** Nose bridge between the eyes: skin on most faces even when bangs hide the forehead. */
const BRIDGE: Rect = [48, 50, 64, 66];
/** Nose tip down to the chin, wider than LOWER, cut into a coarse grid for the `patch` features. */
const PATCH: Rect = [24, 64, 88, 112];
const PATCH_COLS = 8;
const PATCH_ROWS = 6;
/** Chroma distance (CbCr units) within which a pixel counts as the same skin as the forehead's. */
const OWN_SKIN_RADIUS = 10;
/** Below this share of pixels inside the image, LOWER is treated as showing no mask. */
const MIN_VISIBLE = 0.25;

export function featureLength(kind: FeatureKind): number {
  const patch = PATCH_COLS * PATCH_ROWS * 3 + 2;
  return { skin: 1, patch, embedding: 512, both: patch + 512 }[kind];
}

export function maskFeatures(kind: FeatureKind, input: MaskInput): number[] {
  if (kind === 'skin') return [skinFractions(input.aligned).lower];
  if (kind === 'patch') return patchFeatures(input.aligned);
  const emb = input.embedding;
  if (!emb) throw new Error(`mask features '${kind}' need the embedding`);
  return kind === 'embedding' ? Array.from(emb) : [...patchFeatures(input.aligned), ...emb];
}

interface Ycc {
  y: number;
  cb: number;
  cr: number;
}

/** JPEG's YCbCr: skin tones of all complexions cluster in Cb/Cr much more than in RGB. */
function ycc(rgb: Uint8Array, x: number, y: number): Ycc | undefined {
  const i = (y * SIZE + x) * 3;
  const r = rgb[i], g = rgb[i + 1], b = rgb[i + 2];
  // warpAffine paints outside the source image pure black: that is no evidence either way.
  if (r + g + b < 6) return undefined;
  return {
    y: 0.299 * r + 0.587 * g + 0.114 * b,
    cb: 128 - 0.168736 * r - 0.331264 * g + 0.5 * b,
    cr: 128 + 0.5 * r - 0.418688 * g - 0.081312 * b,
  };
}

function* pixels(rgb: Uint8Array, [x0, y0, x1, y1]: Rect): Generator<Ycc | undefined> {
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) yield ycc(rgb, x, y);
}

const median = (a: number[]): number => {
  if (a.length === 0) return 128;
  // A typed array sorts numerically in native code: the comparator sort of ~1,700 chroma values
  // was most of the rule's 0.7 ms a face (now ~0.27). The middle value is the same either way.
  const s = Float64Array.from(a).sort();
  return s[s.length >> 1];
};

/** Median chroma of forehead and nose bridge: a mask rarely reaches either. */
function ownSkinChroma(rgb: Uint8Array): { cb: number; cr: number } {
  const cb: number[] = [], cr: number[] = [];
  for (const r of [FOREHEAD, BRIDGE]) {
    for (const p of pixels(rgb, r)) if (p) { cb.push(p.cb); cr.push(p.cr); }
  }
  return { cb: median(cb), cr: median(cr) };
}

/**
 * Skin if inside the classic YCbCr skin box (Chai & Ngan 1999: Cb 77-127, Cr 133-173), or close to
 * this face's own forehead chroma: the box alone misses grey photos and strong colour casts.
 */
function skinTest(own: { cb: number; cr: number }): (p: Ycc) => boolean {
  return (p) =>
    (p.cb >= 77 && p.cb <= 127 && p.cr >= 133 && p.cr <= 173) || Math.hypot(p.cb - own.cb, p.cr - own.cr) < OWN_SKIN_RADIUS;
}

function fraction(rgb: Uint8Array, rect: Rect, isSkin: (p: Ycc) => boolean): { share: number; visible: number } {
  let seen = 0, skin = 0, total = 0;
  for (const p of pixels(rgb, rect)) {
    total++;
    if (!p) continue;
    seen++;
    if (isSkin(p)) skin++;
  }
  return { share: seen ? skin / seen : 0, visible: seen / total };
}

/** Share of skin-like pixels below the nose (a mask drives it to ~0) and on the forehead. */
export function skinFractions(rgb: Uint8Array): { lower: number; forehead: number } {
  const isSkin = skinTest(ownSkinChroma(rgb));
  const lower = fraction(rgb, LOWER, isSkin);
  const forehead = fraction(rgb, FOREHEAD, isSkin);
  return { lower: lower.visible < MIN_VISIBLE ? 1 : lower.share, forehead: forehead.share };
}

/**
 * Mean Y, Cb, Cr of each cell of the nose-to-chin grid minus the forehead's, scaled to about ±1:
 * relative colours make a white mask on a pale face and on a dark face look alike.
 */
function patchFeatures(rgb: Uint8Array): number[] {
  const ref = meanYcc(rgb, FOREHEAD);
  const [x0, y0, x1, y1] = PATCH;
  const cw = (x1 - x0) / PATCH_COLS, ch = (y1 - y0) / PATCH_ROWS;
  const out: number[] = [];
  for (let r = 0; r < PATCH_ROWS; r++) {
    for (let c = 0; c < PATCH_COLS; c++) {
      const cell: Rect = [x0 + c * cw, y0 + r * ch, x0 + (c + 1) * cw, y0 + (r + 1) * ch];
      const m = meanYcc(rgb, cell);
      out.push((m.y - ref.y) / 128, (m.cb - ref.cb) / 64, (m.cr - ref.cr) / 64);
    }
  }
  const s = skinFractions(rgb);
  out.push(s.lower, s.forehead);
  return out;
}

function meanYcc(rgb: Uint8Array, rect: Rect): Ycc {
  let n = 0, y = 0, cb = 0, cr = 0;
  for (const p of pixels(rgb, rect)) if (p) { n++; y += p.y; cb += p.cb; cr += p.cr; }
  return n ? { y: y / n, cb: cb / n, cr: cr / n } : { y: 128, cb: 128, cr: 128 };
}
