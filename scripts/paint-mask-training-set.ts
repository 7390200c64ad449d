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
import { basename, join, resolve } from 'node:path';
import sharp from 'sharp';
import { FaceEngine } from '../src/engine/engine.js';
import { ARCFACE_TEMPLATE, fitSimilarity } from '../src/engine/align.js';

const [out, copies, ...photos] = process.argv.slice(2);
if (!out || !copies || photos.length === 0) {
  console.error('usage: tsx scripts/paint-mask-training-set.ts OUT_DIR COPIES_PER_CLASS PHOTO...');
  process.exit(2);
}
if (photos.some((p) => resolve(p).includes(`${'shared'}/eval`))) {
  console.error('../shared/eval is evaluation-only: do not train on it.');
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
  } else if (kind < 0.5) { // pattern: stripes or dots
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

const engine = await FaceEngine.create();
const lines = ['file,label,group,subset'];
let n = 0;
for (const photo of photos) {
  const bytes = readFileSync(photo);
  const upright = await sharp(bytes).rotate().toBuffer();
  const { width: W, height: H } = await sharp(upright).metadata() as { width: number; height: number };
  const faces = (await engine.analyze(upright)).faces.filter((f) => Math.min(f.box.width, f.box.height) >= 40);
  for (const [fi, f] of faces.entries()) {
    const group = `${basename(photo)}#${fi}`;
    const L = f.landmarks;
    const size = Math.max(f.box.width, f.box.height);
    const fcx = f.box.x + f.box.width / 2, fcy = f.box.y + f.box.height / 2;
    const R0 = Math.round(size * 4);
    const ox = Math.round(fcx - R0 / 2), oy = Math.round(fcy - R0 / 2);
    const pad = R0;
    const ext = await sharp(upright).extend({ top: pad, bottom: pad, left: pad, right: pad, extendWith: 'copy' }).png({ compressionLevel: 0 }).toBuffer();
    const region0 = await sharp(ext).extract({ left: ox + pad, top: oy + pad, width: R0, height: R0 }).png().toBuffer();
    const five = [L.leftEye, L.rightEye, L.nose, L.leftMouth, L.rightMouth].map((p) => [p.x - ox, p.y - oy] as [number, number]);
    for (let v = 0; v < perFace * 2; v++) {
      const masked = v % 2 === 0;
      const base = masked ? await sharp(region0).composite([{ input: Buffer.from(maskSvg(R0, R0, five)) }]).png().toBuffer() : region0;
      const cx = R0 / 2 + U(-0.1, 0.1) * size, cy = R0 / 2 + U(-0.1, 0.15) * size;
      const S = Math.round(size * (rnd() < 0.35 ? U(0.9, 1.2) : U(1.2, 2.2)));
      const R = Math.round(S * 1.5);
      let region = await sharp(base).extract({ left: Math.round(cx - R / 2), top: Math.round(cy - R / 2), width: R, height: R }).png().toBuffer();
      const angle = U(-12, 12);
      region = await sharp(region).rotate(angle, { background: '#808080' }).png().toBuffer();
      const m2 = await sharp(region).metadata();
      const c = Math.round((m2.width! - S) / 2);
      const faceTarget = U(40, 200);
      const outSide = Math.max(48, Math.round((S * faceTarget) / size));
      let p = sharp(region).extract({ left: c, top: c, width: S, height: S }).resize(outSide, outSide).modulate({ brightness: U(0.7, 1.25), saturation: U(0.6, 1.3), hue: Math.round(U(-10, 10)) });
      if (rnd() < 0.1) p = p.greyscale();
      if (rnd() < 0.3) p = p.blur(U(0.4, 1.5));
      if (rnd() < 0.5) p = p.flop();
      const file = `s${String(n++).padStart(5, '0')}.jpg`;
      writeFileSync(join(out, file), await p.jpeg({ quality: Math.round(U(40, 95)) }).toBuffer());
      lines.push(`${file},${masked ? 'with_mask' : 'without_mask'},${group},${masked ? 'masked' : 'unmasked'}`);
    }
  }
  console.error(photo, faces.length);
}
writeFileSync(join(out, 'labels.csv'), lines.join('\n') + '\n');
console.error('images', n);
