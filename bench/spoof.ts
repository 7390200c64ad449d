/**
 * Presentation-attack benchmark: APCER (attacks accepted as live) and BPCER (live faces rejected)
 * at each NHN spoofing condition, per folder of ../shared/eval/spoof and per attack type, plus
 * the threshold-free AUC. Folders are never pooled: they differ in camera, distance and attack.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FaceEngine } from '../src/engine/engine.js';
import { ImageError } from '../src/engine/errors.js';
import { SPOOF_CONDITIONS, SPOOF_THRESHOLDS, isSpoof, type SpoofCondition } from '../src/engine/spoof.js';
import { evalDir, pct, printHeader, progress, table } from './common.js';

const FOLDERS = ['nuaa', 'msu_mfsd', 'samples', 'selfrec_alexcamargoweb'];
/** Attack types are only broken out where a folder labels more than one. */
const ALL_ATTACKS = 'all attacks';

interface Sample {
  folder: string;
  path: string;
  live: boolean;
  attack: string;
}

/** A number, or why the image has none: no face found, or refused by the decoder. */
type Outcome = number | 'no-face' | 'refused';

interface Scored extends Sample {
  outcome: Outcome;
}

const root = join(evalDir(), 'spoof');
const samples = FOLDERS.flatMap((f) => listFolder(f));
printHeader(`Anti-spoofing: ${samples.length} photos in ${FOLDERS.length} folders of ${root}`);

const engine = await FaceEngine.create();
const scored = await scoreAll(samples);

console.log('liveScore: src/engine/liveness.ts (BGR crop at 2.7x the box, mean of crop and mirror).');
console.log('Operating points (src/engine/spoof.ts): a face is reported spoofed when liveScore < threshold');
console.log(table(['condition', 'threshold'], SPOOF_CONDITIONS.map((c) => [c, SPOOF_THRESHOLDS[c].toFixed(2)])));
console.log('\nPer folder (AUC: chance that a live face outscores an attack, 1 = perfect)');
console.log(table(['folder', 'live', 'spoof', 'no face: live', 'no face: spoof', 'AUC'], FOLDERS.map((f) => folderRow(f))));
console.log('\nAPCER: attacks accepted as live, per attack type');
console.log(table(['folder', 'attack', 'spoofs', 'AUC', ...SPOOF_CONDITIONS.map(conditionHead)], FOLDERS.flatMap((f) => apcerRows(f))));
console.log('\nBPCER: live faces rejected as attacks');
console.log(table(['folder', 'live', ...SPOOF_CONDITIONS.map(conditionHead)], FOLDERS.map((f) => bpcerRow(f))));
printNotes();

/** labels.csv when the folder has one (it carries the attack type), else the live/ and spoof/ folders. */
function listFolder(folder: string): Sample[] {
  const dir = join(root, folder);
  const csv = join(dir, 'labels.csv');
  if (existsSync(csv)) {
    return parseCsv(readFileSync(csv, 'utf8')).map((r) => ({
      folder,
      path: join(dir, r.file),
      live: r.label === 'live',
      attack: r.label === 'live' ? '' : attackName(r.attack_type ?? ''),
    }));
  }
  return (['live', 'spoof'] as const).flatMap((label) =>
    readdirSync(join(dir, label))
      .sort()
      .map((file) => ({ folder, path: join(dir, label, file), live: label === 'live', attack: label === 'live' ? '' : 'unstated' })),
  );
}

function attackName(label: string): string {
  if (/iPad/i.test(label)) return 'iPad replay';
  if (/iPhone/i.test(label)) return 'iPhone replay';
  if (/^print/i.test(label)) return 'print';
  return 'unstated';
}

/** Enough CSV for the label files: a header row, fields optionally double-quoted. */
function parseCsv(text: string): Record<string, string>[] {
  const rows = text.trim().split(/\r?\n/).map(splitCsvLine);
  const head = rows[0];
  return rows.slice(1).map((cells) => Object.fromEntries(head.map((h, i) => [h, cells[i] ?? ''])));
}

function splitCsvLine(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quoted && ch === '"' && line[i + 1] === '"') cell += line[++i];
    else if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) (cells.push(cell), (cell = ''));
    else cell += ch;
  }
  cells.push(cell);
  return cells;
}

/** The largest face is the one judged, as the NHN API lists faces largest first. */
async function scoreAll(list: Sample[]): Promise<Scored[]> {
  const bar = progress(list.length, 'spoof');
  const out: Scored[] = [];
  for (const s of list) {
    out.push({ ...s, outcome: await scoreOne(s.path) });
    bar.tick();
  }
  bar.stop();
  return out;
}

async function scoreOne(path: string): Promise<Outcome> {
  try {
    const r = await engine.analyze(readFileSync(path), { spoof: true, maxFaces: 1 });
    return r.faces[0]?.liveScore ?? 'no-face';
  } catch (e) {
    if (e instanceof ImageError) return 'refused';
    throw e;
  }
}

function inFolder(folder: string): Scored[] {
  return scored.filter((s) => s.folder === folder);
}

/** Scores of the faces that were found; the rest are counted apart, never as a verdict. */
function scores(list: Scored[]): number[] {
  return list.flatMap((s) => (typeof s.outcome === 'number' ? [s.outcome] : []));
}

function unscored(list: Scored[]): string {
  const noFace = list.filter((s) => s.outcome === 'no-face').length;
  const refused = list.filter((s) => s.outcome === 'refused').length;
  return refused ? `${noFace} (+${refused} refused)` : String(noFace);
}

function folderRow(folder: string): (string | number)[] {
  const all = inFolder(folder);
  const live = all.filter((s) => s.live);
  const spoof = all.filter((s) => !s.live);
  return [folder, live.length, spoof.length, unscored(live), unscored(spoof), auc(scores(live), scores(spoof)).toFixed(3)];
}

function apcerRows(folder: string): (string | number)[][] {
  const all = inFolder(folder);
  const live = scores(all.filter((s) => s.live));
  const attacks = [...new Set(all.filter((s) => !s.live).map((s) => s.attack))].sort();
  const groups = attacks.length > 1 ? [ALL_ATTACKS, ...attacks] : attacks;
  return groups.map((attack) => {
    const spoof = scores(all.filter((s) => !s.live && (attack === ALL_ATTACKS || s.attack === attack)));
    const cells = SPOOF_CONDITIONS.map((c) => rate(spoof.filter((x) => !isSpoof(x, c)).length, spoof.length));
    return [folder, attack, spoof.length, auc(live, spoof).toFixed(3), ...cells];
  });
}

function bpcerRow(folder: string): (string | number)[] {
  const live = scores(inFolder(folder).filter((s) => s.live));
  return [folder, live.length, ...SPOOF_CONDITIONS.map((c) => rate(live.filter((x) => isSpoof(x, c)).length, live.length))];
}

function conditionHead(c: SpoofCondition): string {
  return `${c} (< ${SPOOF_THRESHOLDS[c].toFixed(2)})`;
}

/** Percentage with the counts behind it: on 18 live photos one image is 5.6 points. */
function rate(k: number, n: number): string {
  return n === 0 ? '-' : `${pct(k / n, 1)} (${k}/${n})`;
}

/** Mann-Whitney AUC, ties counted half. */
function auc(live: number[], spoof: number[]): number {
  if (live.length === 0 || spoof.length === 0) return NaN;
  let wins = 0;
  for (const a of live) for (const b of spoof) wins += a > b ? 1 : a === b ? 0.5 : 0;
  return wins / (live.length * spoof.length);
}

function printNotes(): void {
  console.log(`
Counts in the APCER/BPCER tables are faces found; photos where the detector finds no face are
left out of both rates and AUC and listed under "no face" (the API would answer with zero faces,
so no spoofing verdict). "refused" would be photos the decoder rejects (e.g. under 80 px).
Only the largest face of a photo is judged. selfrec_alexcamargoweb holds tight face crops with
little of the context the model looks at; it is reported on its own and never pooled.`);
}
