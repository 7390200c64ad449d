/**
 * Hard faces (issue 14), per detector setting (FACEREC_DETECTOR): how often the engine finds no
 * face where there is one.
 *
 *   npm run bench:hard-faces                 every setting, every set
 *   npm run bench:hard-faces -- --limit 100  at most 100 identities for the made sets (faster)
 *
 * Sets:
 *  - ../shared/eval/mask, its four subsets (masked and unmasked RMFD crops and web photos): no-face
 *    rate, and the mask flag's recall / specificity on the faces found (the mask README asks for
 *    per-subset figures);
 *  - tight crops made here from the first photo of each eval identity: the face box the
 *    default setting finds on the photo, cut out exactly (no margin), 150×150 grey, as ID-card
 *    crops and the LFW 150 px thumbnails are;
 *  - turned photos made here from the same photos: in-plane 30° and 45° both ways (grey corners),
 *    and 90° / 180° / 270°.
 * The made sets exist only in memory. Only measures; nothing is fitted to these photos.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { FaceEngine, type EngineFace } from '../src/engine/engine.js';
import { DETECTOR_SETTINGS, type DetectorSetting } from '../src/engine/face-finder.js';
import { readLabels } from './mask-sets.js';
import { evalDir, pct, printHeader, progress, quantile, table } from './common.js';

const argValue = (name: string) => (process.argv.includes(name) ? process.argv[process.argv.indexOf(name) + 1] : undefined);
const LIMIT = Number(argValue('--limit') ?? Infinity);
const ANGLES = [-45, -30, 30, 45, 90, 180, 270];

interface Tally {
  images: number;
  noFace: number;
  ms: number[];
}
const tally = (): Tally => ({ images: 0, noFace: 0, ms: [] });

async function timedFaces(engine: FaceEngine, bytes: Uint8Array): Promise<{ faces: EngineFace[]; ms: number }> {
  const t0 = performance.now();
  const faces = await engine
    .analyze(bytes, { maxFaces: 1 })
    .then((r) => r.faces)
    .catch(() => [] as EngineFace[]);
  return { faces, ms: performance.now() - t0 };
}

async function maskSet(engines: Map<DetectorSetting, FaceEngine>, dir: string): Promise<void> {
  const rows = readLabels(dir);
  const subsets = [...new Set(rows.map((r) => r.subset))];
  const out: (string | number)[][] = [];
  const bar = progress(rows.length * engines.size, 'mask set');
  for (const [setting, engine] of engines) {
    const by = new Map(subsets.map((s) => [s, { ...tally(), flagged: 0 }]));
    for (const r of rows) {
      const t = by.get(r.subset)!;
      const { faces, ms } = await timedFaces(engine, readFileSync(join(dir, r.file)));
      t.images++;
      t.ms.push(ms);
      if (faces.length === 0) t.noFace++;
      else if (faces[0].mask.masked === r.masked) t.flagged++;
      bar.tick();
    }
    for (const s of subsets) {
      const t = by.get(s)!;
      const masked = rows.find((r) => r.subset === s)!.masked;
      const found = t.images - t.noFace;
      out.push([setting, s, t.images, t.noFace, pct(t.noFace / t.images, 1), `${masked ? 'recall' : 'specificity'} ${pct(t.flagged / Math.max(1, found), 1)}`, quantile(t.ms, 0.5).toFixed(1)]);
    }
  }
  bar.stop();
  console.log('Mask set (../shared/eval/mask): no face found, and the mask flag on the faces found (largest face)');
  console.log(table(['setting', 'subset', 'images', 'no face', 'no-face rate', 'mask flag', 'p50 ms'], out));
}

/** The first photo of each identity, at most LIMIT. */
function identityPhotos(root: string): string[] {
  const dirs = readdirSync(join(root, 'identities')).sort();
  const files: string[] = [];
  for (const d of dirs) {
    const first = readdirSync(join(root, 'identities', d)).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort((a, b) => parseInt(a) - parseInt(b))[0];
    if (first) files.push(join(root, 'identities', d, first));
    if (files.length >= LIMIT) break;
  }
  return files;
}

async function madeSets(engines: Map<DetectorSetting, FaceEngine>, root: string): Promise<void> {
  const photos = identityPhotos(root);
  const reference = engines.get('rfb320+yunet')!;
  const tight: Uint8Array[] = [];
  const turned = new Map<number, Uint8Array[]>(ANGLES.map((a) => [a, []]));
  let noReference = 0;
  const bar = progress(photos.length, 'make crops');
  for (const file of photos) {
    bar.tick();
    const bytes = readFileSync(file);
    const ref = await reference.analyze(bytes, { maxFaces: 1 });
    for (const a of ANGLES) turned.get(a)!.push(new Uint8Array(await sharp(bytes).rotate(a, { background: '#808080' }).jpeg({ quality: 92 }).toBuffer()));
    if (ref.faces.length === 0) {
      noReference++;
      continue;
    }
    const b = ref.faces[0].box;
    const left = Math.max(0, Math.round(b.x));
    const top = Math.max(0, Math.round(b.y));
    const width = Math.min(ref.width - left, Math.round(b.width));
    const height = Math.min(ref.height - top, Math.round(b.height));
    tight.push(new Uint8Array(await sharp(bytes).extract({ left, top, width, height }).resize(150, 150, { fit: 'fill' }).grayscale().jpeg({ quality: 92 }).toBuffer()));
  }
  bar.stop();
  const sets: [string, Uint8Array[]][] = [['tight 150 px grey crops', tight], ...ANGLES.map((a) => [`turned ${a}°`, turned.get(a)!] as [string, Uint8Array[]])];
  const out: (string | number)[][] = [];
  const bar2 = progress(sets.reduce((n, [, s]) => n + s.length, 0) * engines.size, 'made sets');
  for (const [name, images] of sets) {
    for (const [setting, engine] of engines) {
      const t = tally();
      for (const bytes of images) {
        const { faces, ms } = await timedFaces(engine, bytes);
        t.images++;
        t.ms.push(ms);
        if (faces.length === 0) t.noFace++;
        bar2.tick();
      }
      out.push([name, setting, t.images, t.noFace, pct(t.noFace / t.images, 1), quantile(t.ms, 0.5).toFixed(1)]);
    }
  }
  bar2.stop();
  console.log(`\nMade from the first photo of ${photos.length} eval identities (tight crops: of the ${photos.length - noReference} where the default finds a face)`);
  console.log(table(['set', 'setting', 'images', 'no face', 'no-face rate', 'p50 ms'], out));
}

async function main(): Promise<void> {
  const root = evalDir();
  printHeader('Hard faces: no face found, per detector setting');
  const engines = new Map<DetectorSetting, FaceEngine>();
  for (const s of DETECTOR_SETTINGS) engines.set(s, await FaceEngine.create({ detectors: s }));
  await maskSet(engines, join(root, 'mask'));
  await madeSets(engines, root);
}

await main();
