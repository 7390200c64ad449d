/**
 * Makes a mask training set from photos licensed for it (issue 14): every face of every photo,
 * cropped, turned, rescaled and recoloured at random, half of the copies with a mask painted from
 * the face's own five landmarks (surgical, cloth, patterned, pleated; worn over or below the nose;
 * with or without straps). Writes JPEGs and a labels.csv (file,label,group,subset) that
 * `npm run train:mask` reads; group = source face, so no face spans two CV folds.
 *
 *   tsx scripts/paint-mask-training-set.ts OUT_DIR COPIES_PER_CLASS PHOTO...
 *
 * The photos used for models/mask-probe-synthetic.json and their licences are listed in
 * models/README.md. Never pass ../shared/eval: it is evaluation-only.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { isEvaluationData } from '../bench/mask-sets.js';
import sharp from 'sharp';
import { FaceEngine, type EngineFace } from '../src/engine/engine.js';
import { ARCFACE_TEMPLATE, fitSimilarity } from '../src/engine/align.js';

const [out, copies, ...photos] = process.argv.slice(2);
if (!out || !copies || photos.length === 0) {
  console.error('usage: tsx scripts/paint-mask-training-set.ts OUT_DIR COPIES_PER_CLASS PHOTO...');
  process.exit(2);
}
if (photos.some((p) => isEvaluationData(dirname(resolve(p))))) {
  console.error('../shared/eval is evaluation-only: its README says "Do not train on them".');
  process.exit(2);
}
const perFace = Number(copies);
mkdirSync(out, { recursive: true });
// A fixed-seed generator: the same photos give the same set, so the shipped probe can be remade.
let seed = 12345;
const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
const U = (a: number, b: number) => a + (b - a) * rnd();
const pick = <T,>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)];

const COLOURS = ['#9cc7e6', '#a8d0f0', '#7fb3d5', '#eeeeee', '#ffffff', '#d9d9d9', '#222222', '#111111', '#3a3a3a', '#1f3a5f', '#2e4a7d', '#f4c2c2', '#e89fb3', '#6b8e23', '#556b2f', '#8b0000', '#c0c0c0', '#808080', '#f5f5dc', '#4b0082', '#87ceeb', '#20b2aa'];

/**
 * A mask as SVG in the region's pixels: a polygon on the ArcFace template from the nose bridge (or,
 * in 15 %, from below the nose) to below the chin, its corners jittered, carried onto the face by
 * its five points; one of the colours above, shaded darker towards the chin; pleated, dotted or
 * plain; with straps towards the ears in 60 %.
 */
function maskSvg(w: number, h: number, five: [number, number][]): string {
  const { a, b, tx, ty } = fitSimilarity(ARCFACE_TEMPLATE, five.map(([x, y]) => ({ x, y })));
  const T = ([x, y]: [number, number]) => [a * x - b * y + tx, b * x + a * y + ty];
  const top = rnd() < 0.15 ? U(66, 72) : U(52, 62); // below the nose sometimes
  const side = U(4, 14), bottom = U(110, 122), chinW = U(28, 42);
  const j = () => U(-2.5, 2.5);
  const poly: [number, number][] = [[side + j(), top + 6 + j()], [40 + j(), top + j()], [56, top - 1 + j()], [72 + j(), top + j()], [112 - side + j(), top + 6 + j()], [112 - side + 2 + j(), 96 + j()], [56 + chinW + j(), bottom], [56 - chinW + j(), bottom], [side - 2 + j(), 96 + j()]];
  const d = poly.map((p, i) => { const [x, y] = T(p); return `${i ? 'L' : 'M'} ${x.toFixed(1)} ${y.toFixed(1)}`; }).join(' ') + ' Z';
  const colour = pick(COLOURS);
  const scale = Math.hypot(a, b);
  const [gx1, gy1] = T([56, top]), [gx2, gy2] = T([56, bottom]);
  const shade = U(0.55, 0.95).toFixed(2);
  let extra = '';
  const kind = rnd();
  if (kind < 0.35) { // pleats
    for (const py of [top + 14, top + 24, top + 34]) {
      const [x1, y1] = T([side + 4, py]), [x2, y2] = T([112 - side - 4, py]);
      extra += `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="black" stroke-opacity="${U(0.08, 0.25).toFixed(2)}" stroke-width="${(1.2 * scale).toFixed(1)}"/>`;
    }
  } else if (kind < 0.5) { // dotted
    const c2 = pick(COLOURS);
    extra += `<defs><pattern id="p" width="${(U(4, 10) * scale).toFixed(1)}" height="${(U(4, 10) * scale).toFixed(1)}" patternUnits="userSpaceOnUse"><circle cx="2" cy="2" r="${(U(0.8, 2.5) * scale).toFixed(1)}" fill="${c2}"/></pattern><clipPath id="c"><path d="${d}"/></clipPath></defs><path d="${d}" fill="url(#p)" clip-path="url(#c)"/>`;
  }
  let straps = '';
  if (rnd() < 0.6) {
    for (const [sx, sy, ex, ey] of [[side, top + 8, -2, 52], [side, 96, -2, 70], [112 - side, top + 8, 114, 52], [112 - side, 96, 114, 70]]) {
      const [x1, y1] = T([sx, sy]), [x2, y2] = T([ex, ey]);
      straps += `<line x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}" stroke="${rnd() < 0.5 ? colour : '#f0f0f0'}" stroke-width="${(U(0.8, 1.8) * scale).toFixed(1)}"/>`;
    }
  }
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}"><defs><linearGradient id="g" x1="${gx1}" y1="${gy1}" x2="${gx2}" y2="${gy2}" gradientUnits="userSpaceOnUse"><stop offset="0" stop-color="white" stop-opacity="0"/><stop offset="1" stop-color="black" stop-opacity="${(1 - Number(shade)).toFixed(2)}"/></linearGradient></defs>${straps}<path d="${d}" fill="${colour}"/><path d="${d}" fill="url(#g)"/>${extra}</svg>`;
}

/** The face with room around it (4× its size, edges copied outward), and its five points there. */
async function faceRegion(photo: Buffer, f: EngineFace): Promise<{ region: Buffer; side: number; five: [number, number][]; size: number }> {
  const size = Math.max(f.box.width, f.box.height);
  const side = Math.round(size * 4);
  const ox = Math.round(f.box.x + f.box.width / 2 - side / 2), oy = Math.round(f.box.y + f.box.height / 2 - side / 2);
  // sharp extracts before it extends within one pipeline, hence two.
  const padded = await sharp(photo).extend({ top: side, bottom: side, left: side, right: side, extendWith: 'copy' }).png({ compressionLevel: 0 }).toBuffer();
  const region = await sharp(padded).extract({ left: ox + side, top: oy + side, width: side, height: side }).png().toBuffer();
  const L = f.landmarks;
  const five = [L.leftEye, L.rightEye, L.nose, L.leftMouth, L.rightMouth].map((p) => [p.x - ox, p.y - oy] as [number, number]);
  return { region, side, five, size };
}

/**
 * One training copy of the face: off-centre, tight (about a third of the copies, as ID-style and
 * RMFD-style crops are) or loose, turned up to 12°, rescaled so the face is 40-200 px, recoloured,
 * sometimes grey, blurred or mirrored, JPEG quality 40-95.
 */
async function trainingCopy(base: Buffer, side: number, size: number): Promise<Buffer> {
  const cx = side / 2 + U(-0.1, 0.1) * size, cy = side / 2 + U(-0.1, 0.15) * size;
  const S = Math.round(size * (rnd() < 0.35 ? U(0.9, 1.2) : U(1.2, 2.2)));
  const R = Math.round(S * 1.5);
  const around = await sharp(base).extract({ left: Math.round(cx - R / 2), top: Math.round(cy - R / 2), width: R, height: R }).png().toBuffer();
  const turned = await sharp(around).rotate(U(-12, 12), { background: '#808080' }).png().toBuffer();
  const c = Math.round(((await sharp(turned).metadata()).width! - S) / 2);
  const outSide = Math.max(48, Math.round((S * U(40, 200)) / size));
  let p = sharp(turned).extract({ left: c, top: c, width: S, height: S }).resize(outSide, outSide).modulate({ brightness: U(0.7, 1.25), saturation: U(0.6, 1.3), hue: Math.round(U(-10, 10)) });
  if (rnd() < 0.1) p = p.greyscale();
  if (rnd() < 0.3) p = p.blur(U(0.4, 1.5));
  if (rnd() < 0.5) p = p.flop();
  return p.jpeg({ quality: Math.round(U(40, 95)) }).toBuffer();
}

const engine = await FaceEngine.create();
const lines = ['file,label,group,subset'];
let n = 0;
for (const photo of photos) {
  const upright = await sharp(readFileSync(photo)).rotate().toBuffer();
  const faces = (await engine.analyze(upright)).faces.filter((f) => Math.min(f.box.width, f.box.height) >= 40);
  for (const [fi, f] of faces.entries()) {
    const { region, side, five, size } = await faceRegion(upright, f);
    for (let v = 0; v < perFace * 2; v++) {
      const masked = v % 2 === 0;
      const base = masked ? await sharp(region).composite([{ input: Buffer.from(maskSvg(side, side, five)) }]).png().toBuffer() : region;
      const file = `s${String(n++).padStart(5, '0')}.jpg`;
      writeFileSync(join(out, file), await trainingCopy(base, side, size));
      lines.push(`${file},${masked ? 'with_mask' : 'without_mask'},${basename(photo)}#${fi},${masked ? 'masked' : 'unmasked'}`);
    }
  }
  console.error(photo, faces.length);
}
writeFileSync(join(out, 'labels.csv'), lines.join('\n') + '\n');
console.error('images', n);
