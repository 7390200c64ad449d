/**
 * Labelled mask photo sets and how a mask flag is scored on them: what scripts/train-mask.ts
 * (training on a licensed set) and bench/mask.ts, bench/hard-faces.ts (measuring on
 * ../shared/eval/mask) both need. Lives apart so benches never import the training script.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FaceEngine } from '../src/engine/engine.js';
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

/** True for the shared evaluation photos, whose README forbids training on them. */
export function isEvaluationData(dir: string): boolean {
  const evalRoot = resolve(process.env.FACEREC_EVAL_DIR ?? resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', 'shared', 'eval'));
  const d = resolve(dir);
  if (d === evalRoot || d.startsWith(evalRoot + sep)) return true;
  const readme = join(d, 'README.md');
  return existsSync(readme) && /do not train on them/i.test(readFileSync(readme, 'utf8'));
}

// ---- Faces and features ------------------------------------------------------------------

/**
 * The largest face of a photo as the engine's mask flag sees it: the engine's own detectors
 * (FACEREC_DETECTOR's default, with the YuNet fallback and its five points), alignment and
 * embedder, asked for the aligned crop.
 */
export class AlignedFaces {
  private constructor(private readonly engine: FaceEngine) {}

  static async create(): Promise<AlignedFaces> {
    return new AlignedFaces(await FaceEngine.create());
  }

  async largest(bytes: Uint8Array): Promise<AlignedFace | undefined> {
    const { faces } = await this.engine.analyze(bytes, { maxFaces: 1, embed: true, alignedCrops: true });
    const face = faces[0];
    return face && { aligned: face.aligned!, embedding: face.embedding };
  }

  embed(aligned: Uint8Array): Promise<Float32Array> {
    return this.engine.embedAligned(aligned);
  }
}

export interface AlignedFace {
  aligned: Uint8Array;
  embedding: Float32Array;
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

