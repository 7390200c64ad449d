/**
 * Mask flag on the evaluation photos (../shared/eval/mask), through the real engine.
 *
 *   npm run bench:mask                      # every FACEREC_MASK_MODEL, per subset, and on bare faces
 *   npm run bench:mask -- --embedding-check # also: identity embedding of faces under a drawn mask
 *
 * Only measures: these photos are evaluation-only (their README: "Do not train on them"), so no
 * model is fitted here. Images where the engine finds no face are counted apart, not as errors.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaceEngine } from '../src/engine/engine.js';
import { cosine } from '../src/engine/vectors.js';
import { DEFAULT_MASK_MODEL, MASK_MODELS, MaskClassifier, maskModelFile } from '../src/engine/mask.js';
import { evalDir, pct, printHeader, progress, table } from './common.js';
import { AlignedFaces, auc, readLabels, summaries, summaryTable, type Scored } from './mask-sets.js';
import { insidePolygon, MASK_POLYGON } from './painted-masks.js';

async function scoreEvalSet(dir: string, engine: FaceEngine): Promise<Scored[]> {
  const rows = readLabels(dir);
  const bar = progress(rows.length, 'mask');
  const out: Scored[] = [];
  for (const r of rows) {
    // maxFaces 1: a web photo's label is about its main subject, the largest face.
    const faces = await engine
      .analyze(readFileSync(join(dir, r.file)), { maxFaces: 1 })
      .then((a) => a.faces)
      .catch(() => []);
    out.push({ subset: r.subset, masked: r.masked, probability: faces[0]?.mask.probability });
    bar.tick();
  }
  bar.stop();
  return out;
}

function describeProbe(c: MaskClassifier, file: string): void {
  const p = c.probe;
  console.log(`model: models/${file}, features '${p.features}', ${p.fitted}, ${p.date}, threshold ${p.threshold}`);
  console.log(`trained on: ${p.trainedOn}`);
  if (p.cv) console.log('(its own training-set CV figures are stored in the file under "cv")');
  console.log();
}

// ---- Does a masked face still embed close to the same person? ---------------------------------

/**
 * The mask outline drawn on the aligned crop, so this measures the embedder alone: real masks
 * also disturb detection and landmarks, which bench:hard-faces measures with masks painted on
 * the photos.
 */
function drawMask(aligned: Uint8Array): Uint8Array {
  const out = Uint8Array.from(aligned);
  for (let y = 0; y < 112; y++) {
    for (let x = 0; x < 112; x++) {
      if (!insidePolygon(x + 0.5, y + 0.5, MASK_POLYGON)) continue;
      // Pleats: darker lines every 9 px, as on a folded surgical mask.
      const shade = (y - 70) % 9 === 0 ? 0.85 : 1;
      out.set([170 * shade, 205 * shade, 225 * shade], (y * 112 + x) * 3);
    }
  }
  return out;
}

interface PairScore {
  same: boolean;
  clean: number;
  masked: number;
}

/** Every third LFW dev-test pair (a few hundred), second image masked: enough to see the shift. */
async function embeddingCheck(root: string, classifier: MaskClassifier): Promise<void> {
  const lines = readFileSync(join(root, 'pairs', 'lfw_devtest_pairs.csv'), 'utf8').trim().split('\n').slice(1);
  const pairs = lines.filter((_, i) => i % 3 === 0).map((l) => l.split(','));
  const faces = await AlignedFaces.create();
  const bar = progress(pairs.length, 'pairs');
  const scores: PairScore[] = [];
  const flags = { clean: 0, drawn: 0, n: 0 };
  for (const [a, b, same] of pairs) {
    const [fa, fb] = await Promise.all([a, b].map((p) => faces.largest(readFileSync(join(root, p)))));
    bar.tick();
    if (!fa || !fb) continue;
    const mb = drawMask(fb.aligned);
    const em = await faces.embed(mb);
    scores.push({ same: same === '1', clean: cosine(fa.embedding, fb.embedding), masked: cosine(fa.embedding, em) });
    flags.n++;
    if (classifier.classify(fb).masked) flags.clean++;
    if (classifier.classify({ aligned: mb, embedding: em }).masked) flags.drawn++;
  }
  bar.stop();
  printEmbeddingCheck(scores, flags);
}

function printEmbeddingCheck(scores: PairScore[], flags: { clean: number; drawn: number; n: number }): void {
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const gen = scores.filter((s) => s.same), imp = scores.filter((s) => !s.same);
  const t = bestThreshold(scores);
  const acc = (key: 'clean' | 'masked') => scores.filter((s) => (s[key] >= t) === s.same).length / scores.length;
  const tar = (key: 'clean' | 'masked') => gen.filter((s) => s[key] >= t).length / gen.length;
  const trr = (key: 'clean' | 'masked') => imp.filter((s) => s[key] < t).length / imp.length;
  console.log(`\nEmbedding under a drawn mask: LFW dev-test pairs (every 3rd), second image masked after alignment`);
  console.log(`${gen.length} same-person and ${imp.length} different-person pairs with both faces found; cosine threshold ${t.toFixed(3)} = best accuracy on the clean pairs\n`);
  console.log(
    table(
      ['pair', 'mean cosine, same', 'mean cosine, different', 'accuracy', 'same accepted', 'different rejected', 'AUC'],
      (['clean', 'masked'] as const).map((k) => [
        k === 'clean' ? 'clean / clean' : 'clean / masked',
        mean(gen.map((s) => s[k])).toFixed(3),
        mean(imp.map((s) => s[k])).toFixed(3),
        pct(acc(k), 1),
        pct(tar(k), 1),
        pct(trr(k), 1),
        auc(gen.map((s) => s[k]), imp.map((s) => s[k])).toFixed(3),
      ]),
    ),
  );
  console.log('AUC: chance that a same-person pair scores above a different-person pair (threshold-free).');
  console.log(`\nmask flag on those second faces: clean ${flags.clean}/${flags.n} flagged masked, drawn mask ${flags.drawn}/${flags.n} flagged masked (the shape covers the area the skin rule reads, so this only checks the wiring)`);
}

function bestThreshold(scores: PairScore[]): number {
  let best = 0, bestAcc = -1;
  for (const s of scores) {
    const acc = scores.filter((x) => (x.clean >= s.clean) === x.same).length;
    if (acc > bestAcc) { bestAcc = acc; best = s.clean; }
  }
  return best;
}

/** Bare faces: the largest face of every photo of the eval identities (none wears a mask; some have beards). */
async function bareFaces(root: string, engine: FaceEngine): Promise<{ faces: number; flagged: number }> {
  const dir = join(root, 'identities');
  const people = readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  const files = people.flatMap((who) => readdirSync(join(dir, who)).map((f) => join(dir, who, f)));
  const bar = progress(files.length, 'bare faces');
  let faces = 0, flagged = 0;
  for (const f of files) {
    const [face] = await engine.analyze(readFileSync(f), { maxFaces: 1 }).then((a) => a.faces).catch(() => []);
    bar.tick();
    if (!face) continue;
    faces++;
    if (face.mask.masked) flagged++;
  }
  bar.stop();
  return { faces, flagged };
}

/** The party selfie of detection/ (no masks; a full beard in it): the flag of every face found. */
const SELFIE = 'deepface_selfie-many-people.jpg';

async function selfieFlags(root: string, engine: FaceEngine): Promise<string> {
  const { faces } = await engine.analyze(readFileSync(join(root, 'detection', SELFIE)));
  return faces.map((f) => `${Math.round(f.box.width)} px ${f.mask.masked ? 'MASKED' : 'bare'} (${f.mask.probability.toFixed(2)})`).join(', ');
}

async function main(): Promise<void> {
  const root = evalDir();
  printHeader('Mask flag on shared/eval/mask (largest face per image), per FACEREC_MASK_MODEL');
  for (const maskModel of MASK_MODELS) {
    const classifier = MaskClassifier.forModel(maskModel);
    console.log(`\nFACEREC_MASK_MODEL=${maskModel}${maskModel === DEFAULT_MASK_MODEL ? ' (default)' : ''}`);
    describeProbe(classifier, maskModelFile(maskModel));
    const engine = await FaceEngine.create({ maskModel });
    const scored = await scoreEvalSet(join(root, 'mask'), engine);
    console.log(summaryTable(summaries(scored, classifier.probe.threshold)));
    const bare = await bareFaces(root, engine);
    console.log(`bare faces (identities/, largest face of each photo): ${bare.flagged} of ${bare.faces} flagged masked (${pct(bare.flagged / bare.faces, 1)})`);
    console.log(`${SELFIE}, every face found (none masked; the 99 px face is the full beard): ${await selfieFlags(root, engine)}`);
    if (process.argv.includes('--embedding-check') && maskModel === DEFAULT_MASK_MODEL) await embeddingCheck(root, classifier);
  }
  console.log('\nno face: images where the engine found no face; they are left out of every other column.');
  console.log('masked recall: masked faces flagged masked. unmasked specificity: unmasked faces flagged unmasked.');
}
await main();
