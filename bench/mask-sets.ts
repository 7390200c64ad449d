/**
 * Labelled mask photo sets and how a mask flag is scored on them: what scripts/train-mask.ts
 * (training on a licensed set) and bench/mask.ts, bench/hard-faces.ts (measuring on
 * ../shared/eval/mask) both need. Lives apart so benches never import the training script.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { decodeImage, DEFAULT_DECODE_LIMITS } from '../src/engine/decode.js';
import { FaceDetector, DEFAULT_DETECTOR_OPTIONS } from '../src/engine/detector.js';
import { LandmarkModel, fivePointsFrom68 } from '../src/engine/landmarks.js';
import { alignFace } from '../src/engine/align.js';
import { Embedder } from '../src/engine/embedder.js';
import { loadSession } from '../src/engine/models.js';
import { pct, table } from './common.js';

// ---- Labels ------------------------------------------------------------------------------

export interface LabelledImage {
  file: string;
  masked: boolean;
  subset: string;
  group: string;
}

/** RFC 4180 fields: the eval labels quote a note that contains commas. */
function splitCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') { cur += '"'; i++; }
      else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { out.push(cur); cur = ''; }
    else cur += c;
  }
  out.push(cur);
  return out;
}

export function readLabels(dir: string): LabelledImage[] {
  const [head, ...lines] = readFileSync(join(dir, 'labels.csv'), 'utf8').split(/\r?\n/).filter((l) => l.trim() !== '');
  const cols = splitCsvLine(head);
  const at = (name: string) => cols.indexOf(name);
  for (const need of ['file', 'label', 'group']) if (at(need) < 0) throw new Error(`${dir}/labels.csv has no '${need}' column`);
  return lines.map((line) => {
    const f = splitCsvLine(line);
    const label = f[at('label')];
    if (label !== 'with_mask' && label !== 'without_mask') throw new Error(`unknown label '${label}' in ${dir}/labels.csv`);
    return { file: f[at('file')], masked: label === 'with_mask', subset: at('subset') >= 0 ? f[at('subset')] : 'all', group: f[at('group')] };
  });
}

// ---- Faces and features ------------------------------------------------------------------

/**
 * The engine's own steps up to the aligned crop, for the largest face. FaceEngine does not hand
 * out the crop, so this repeats engine.analyzeDecoded's order: decode, detect, largest box,
 * 68 landmarks, 5 points, align. Keep the two in step.
 */
export class AlignedFaces {
  private constructor(
    private readonly detector: FaceDetector,
    private readonly landmarks: LandmarkModel,
    private readonly embedder: Embedder,
  ) {}

  static async create(): Promise<AlignedFaces> {
    const [det, lm, emb] = await Promise.all([loadSession('detector'), loadSession('landmarks'), loadSession('embedder')]);
    return new AlignedFaces(new FaceDetector(det, DEFAULT_DETECTOR_OPTIONS), new LandmarkModel(lm), new Embedder(emb, true));
  }

  async largest(bytes: Uint8Array): Promise<Uint8Array | undefined> {
    const { image } = await decodeImage(bytes, DEFAULT_DECODE_LIMITS);
    const dets = await this.detector.detect(image);
    if (dets.length === 0) return undefined;
    const area = (d: (typeof dets)[number]) => (d.box.x2 - d.box.x1) * (d.box.y2 - d.box.y1);
    const best = dets.reduce((a, b) => (area(b) > area(a) ? b : a));
    return alignFace(image, fivePointsFrom68(await this.landmarks.predict(image, best.box)));
  }

  embed(aligned: Uint8Array): Promise<Float32Array> {
    return this.embedder.embed(aligned);
  }
}

export interface Scored {
  subset: string;
  masked: boolean;
  /** undefined: no face found. */
  probability?: number;
}

// ---- Metrics --------------------------------------------------------------------------------

export interface Summary {
  set: string;
  images: number;
  noFace: number;
  accuracy: number;
  /** Of masked faces, share flagged masked (NaN when the set has none). */
  recall: number;
  /** Of unmasked faces, share flagged unmasked (NaN when the set has none). */
  specificity: number;
  auc: number;
}

export function summarise(set: string, scored: Scored[], threshold: number): Summary {
  const seen = scored.filter((s) => s.probability !== undefined) as Required<Scored>[];
  const pos = seen.filter((s) => s.masked), neg = seen.filter((s) => !s.masked);
  const hitPos = pos.filter((s) => s.probability >= threshold).length;
  const hitNeg = neg.filter((s) => s.probability < threshold).length;
  return {
    set,
    images: scored.length,
    noFace: scored.length - seen.length,
    accuracy: (hitPos + hitNeg) / seen.length,
    recall: hitPos / pos.length,
    specificity: hitNeg / neg.length,
    auc: auc(pos.map((s) => s.probability), neg.map((s) => s.probability)),
  };
}

/** Mann-Whitney AUC (ties count half): threshold-free, so it separates features from thresholds. */
export function auc(pos: number[], neg: number[]): number {
  if (!pos.length || !neg.length) return NaN;
  let s = 0;
  for (const p of pos) for (const n of neg) s += p > n ? 1 : p === n ? 0.5 : 0;
  return s / (pos.length * neg.length);
}

/**
 * Each subset, then each masked/unmasked pair of like images (rmfd_masked with rmfd_unmasked:
 * crops with crops; web with web), then everything pooled.
 */
export function summaries(scored: Scored[], threshold: number): Summary[] {
  const subsets = [...new Set(scored.map((s) => s.subset))];
  const out = subsets.map((s) => summarise(s, scored.filter((x) => x.subset === s), threshold));
  const pairOf = (s: string) => s.replace(/_(un)?masked$/, '');
  const pairs = [...new Set(subsets.map(pairOf))].filter((p) => subsets.filter((s) => pairOf(s) === p).length > 1);
  for (const p of pairs) out.push(summarise(`${p} (both)`, scored.filter((x) => pairOf(x.subset) === p), threshold));
  // With a single pair, 'pooled' would repeat that pair's row.
  const onePairIsAll = pairs.length === 1 && subsets.every((s) => pairOf(s) === pairs[0]);
  if (subsets.length > 1 && !onePairIsAll) out.push(summarise('pooled', scored, threshold));
  return out;
}

const fmt = (x: number) => (Number.isNaN(x) ? '-' : pct(x, 1));

export function summaryTable(rows: Summary[]): string {
  return table(
    ['set', 'images', 'no face', 'accuracy', 'masked recall', 'unmasked specificity', 'AUC'],
    rows.map((r) => [r.set, r.images, r.noFace, fmt(r.accuracy), fmt(r.recall), fmt(r.specificity), Number.isNaN(r.auc) ? '-' : r.auc.toFixed(3)]),
  );
}

