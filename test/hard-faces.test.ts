// Hard faces (issue 14): tight crops, masked faces and turned photos, made by this test from the
// face-api demo photos. RFB-320 alone misses each of these; the default detector setting
// (RFB-320, YuNet when RFB-320 finds nothing) finds them, flags the masks and aligns them well
// enough that search by image finds the person.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { startApi, b64, engine, ok, type TestApi } from './support/api-helpers.js';
import { fixturePath } from './support/fixtures.js';
import { loadConfig } from '../src/config.js';
import { FaceEngine } from '../src/engine/engine.js';
import { EnginePool } from '../src/engine/pool.js';

const code = (r: any) => r.header.resultCode;

interface Person {
  sample: number;
  /** The lead face's box, in pixels. */
  box: { left: number; top: number; width: number; height: number };
  /** The face with a margin of 40 % of its width on each side. */
  crop: { left: number; top: number; width: number; height: number };
  landmarks: Awaited<ReturnType<FaceEngine['analyze']>>['faces'][number]['landmarks'];
}

const SAMPLES = [1, 2, 4, 5];
const people = new Map<number, Person>();
const file = (n: number) => fixturePath(`sample${n}.jpg`);

/** The face alone, squeezed to 150×150 grey: an ID-style crop with no forehead or chin margin. */
const tightGrey = (p: Person) => sharp(file(p.sample)).extract(p.box).resize(150, 150, { fit: 'fill' }).grayscale().jpeg().toBuffer();
/** The face with its margin, as a photo of its own. */
const faceCrop = (p: Person) => sharp(file(p.sample)).extract(p.crop).jpeg().toBuffer();
const turned = async (p: Person, angle: number) => sharp(await faceCrop(p)).rotate(angle).jpeg().toBuffer();

/** A light-blue surgical-style mask drawn from just below the eyes to below the chin line. */
async function masked(p: Person): Promise<Buffer> {
  const L = p.landmarks;
  const at = (q: { x: number; y: number }) => ({ x: q.x - p.crop.left, y: q.y - p.crop.top });
  const nose = at(L.nose);
  const lm = at(L.leftMouth);
  const rm = at(L.rightMouth);
  const e = L.rightEye.x - L.leftEye.x; // eye distance sets the mask's size
  const x0 = lm.x - 0.75 * e;
  const x1 = rm.x + 0.75 * e;
  const top = nose.y - 0.25 * e;
  const bottom = (lm.y + rm.y) / 2 + 0.9 * e;
  const d = `M ${x0} ${top + 0.15 * e} Q ${nose.x} ${top - 0.25 * e} ${x1} ${top + 0.15 * e} L ${x1 - 0.1 * e} ${bottom - 0.3 * e} Q ${nose.x} ${bottom + 0.3 * e} ${x0 + 0.1 * e} ${bottom - 0.3 * e} Z`;
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${p.crop.width}" height="${p.crop.height}"><path d="${d}" fill="#9cc7e6"/></svg>`;
  return sharp(file(p.sample)).extract(p.crop).composite([{ input: Buffer.from(svg) }]).jpeg().toBuffer();
}

/** The hard images, each a case RFB-320 alone finds no face in (asserted below). */
const HARD: { name: string; sample: number; make: (p: Person) => Promise<Buffer>; masked: boolean }[] = [
  { name: 'tight 150 px grey crop', sample: 2, make: tightGrey, masked: false },
  { name: 'tight 150 px grey crop', sample: 5, make: tightGrey, masked: false },
  { name: 'drawn mask', sample: 1, make: masked, masked: true },
  { name: 'drawn mask', sample: 2, make: masked, masked: true },
  { name: 'drawn mask', sample: 4, make: masked, masked: true },
  { name: 'turned 180°', sample: 2, make: (p) => turned(p, 180), masked: false },
  { name: 'turned 90°', sample: 5, make: (p) => turned(p, 90), masked: false },
];

let api: TestApi;
let rfbOnly: FaceEngine;
const images = new Map<string, Uint8Array>();
const key = (c: (typeof HARD)[number]) => `${c.name} of sample${c.sample}`;

before(async () => {
  api = await startApi();
  rfbOnly = await FaceEngine.create({ detectors: 'rfb320' });
  const def = await engine();
  for (const n of SAMPLES) {
    const r = await def.analyze(new Uint8Array(await sharp(file(n)).toBuffer()));
    const f = r.faces[0];
    const box = { left: Math.round(f.box.x), top: Math.round(f.box.y), width: Math.round(f.box.width), height: Math.round(f.box.height) };
    const m = Math.round(0.4 * box.width);
    const left = Math.max(0, box.left - m);
    const top = Math.max(0, box.top - m);
    const crop = { left, top, width: Math.min(r.width - left, box.width + 2 * m), height: Math.min(r.height - top, box.height + 2 * m) };
    people.set(n, { sample: n, box, crop, landmarks: f.landmarks });
  }
  for (const c of HARD) images.set(key(c), new Uint8Array(await c.make(people.get(c.sample)!)));
});
after(() => api.dispose());

describe('hard faces: what RFB-320 alone misses, the default finds', () => {
  test('RFB-320 alone finds no face in any of the hard images', async () => {
    for (const c of HARD) assert.equal((await rfbOnly.analyze(images.get(key(c))!)).faces.length, 0, key(c));
  });

  test('detect (v2) finds exactly one face in each, with its five landmarks inside the box, and flags the masks', async () => {
    for (const c of HARD) {
      const r = await api.v2('POST', '/faces/detect', { image: { bytes: b64(images.get(key(c))!) } });
      assert.ok(ok(r), `${key(c)}: ${JSON.stringify(r.header)}`);
      assert.equal(r.data.faceDetailCount, 1, key(c));
      const f = r.data.faceDetails[0];
      assert.equal(f.mask, c.masked, `${key(c)}: mask flag`);
      const { x0, y0, x1, y1 } = f.bbox;
      for (const l of f.landmarks) {
        assert.ok(l.x >= x0 - 0.02 && l.x <= x1 + 0.02 && l.y >= y0 - 0.02 && l.y <= y1 + 0.02, `${key(c)}: landmark ${JSON.stringify(l)} outside ${JSON.stringify(f.bbox)}`);
      }
    }
  });

  test('the engine aligns a turned face upright: its eye line in the image follows the turn', async () => {
    const c = HARD.find((h) => h.name === 'turned 90°')!;
    const [f] = (await (await engine()).analyze(images.get(key(c))!)).faces;
    const { leftEye: a, rightEye: b } = f.landmarks;
    // Turned 90° clockwise, the eye line runs down the image, not across it.
    assert.ok(Math.abs(b.y - a.y) > 2 * Math.abs(b.x - a.x), `eyes ${JSON.stringify(a)} ${JSON.stringify(b)}`);
  });

  test('register the people from ordinary photos; search by each hard image finds its person first', async () => {
    assert.ok(ok(await api.v2('POST', '/groups', { groupId: 'hard' })));
    const faceOf = new Map<number, string>();
    for (const n of SAMPLES) {
      const r = await api.v2('POST', '/groups/hard/faces', { image: { bytes: b64(await faceCrop(people.get(n)!)) }, limit: 1, externalImageId: `sample${n}` });
      assert.ok(ok(r), JSON.stringify(r.header));
      faceOf.set(n, r.data.addedFaces[0].faceId);
    }
    for (const c of HARD) {
      const r = await api.v2('POST', '/groups/hard/faces/search', { image: { bytes: b64(images.get(key(c))!) }, limit: 4, threshold: 1 });
      assert.ok(ok(r), `${key(c)}: ${JSON.stringify(r.header)}`);
      assert.equal(r.data.matchFaces[0].face.faceId, faceOf.get(c.sample), `${key(c)}: ${JSON.stringify(r.data.matchFaces.map((m: any) => [m.face.externalImageId, m.similarity]))}`);
    }
  });
});

describe('FACEREC_DETECTOR', () => {
  test('defaults to rfb320+yunet, takes yunet and rfb320, and refuses anything else at start-up with the choices', () => {
    assert.equal(loadConfig({}).detectors, 'rfb320+yunet');
    assert.equal(loadConfig({ FACEREC_DETECTOR: 'yunet' }).detectors, 'yunet');
    assert.equal(loadConfig({ FACEREC_DETECTOR: 'rfb320' }).detectors, 'rfb320');
    assert.throws(() => loadConfig({ FACEREC_DETECTOR: 'retinaface' }), /FACEREC_DETECTOR must be one of "rfb320\+yunet", "yunet", "rfb320", got "retinaface"/);
  });

  test('reaches the pool workers: rfb320 misses the tight crop, yunet finds it', async () => {
    const tight = images.get(key(HARD[0]))!;
    for (const [setting, faces] of [['rfb320', 0], ['yunet', 1]] as const) {
      const pool = new EnginePool({ threads: 1, maxQueue: 2, detectors: loadConfig({ FACEREC_DETECTOR: setting }).detectors });
      try {
        assert.equal((await pool.analyze(tight)).faces.length, faces, setting);
      } finally {
        await pool.close();
      }
    }
  });

  test('yunet alone finds the ordinary faces too (all five of sample5)', async () => {
    const yunet = await FaceEngine.create({ detectors: 'yunet' });
    const r = await yunet.analyze(new Uint8Array(await sharp(file(5)).toBuffer()));
    assert.equal(r.faces.length, 5);
  });
});

describe('FACEREC_MASK_MODEL', () => {
  test('defaults to the rule, takes synthetic, and refuses anything else at start-up with the choices', () => {
    assert.equal(loadConfig({}).maskModel, 'rule');
    assert.equal(loadConfig({ FACEREC_MASK_MODEL: 'synthetic' }).maskModel, 'synthetic');
    assert.throws(() => loadConfig({ FACEREC_MASK_MODEL: 'cnn' }), /FACEREC_MASK_MODEL must be one of "rule", "synthetic", got "cnn"/);
  });

  // The face-api photos are among the probe's training photos (models/README.md), so this checks
  // the wiring into the pool's workers and the probe's direction, not how well it generalises
  // (bench:mask measures that).
  test('synthetic reaches the pool workers and flags exactly the drawn masks of the hard images', async () => {
    const pool = new EnginePool({ threads: 1, maxQueue: 2, maskModel: loadConfig({ FACEREC_MASK_MODEL: 'synthetic' }).maskModel });
    try {
      for (const c of HARD) {
        const [face] = (await pool.analyze(images.get(key(c))!)).faces;
        assert.equal(face.mask.masked, c.masked, key(c));
      }
    } finally {
      await pool.close();
    }
  });
});

test('an image without a face is still -40000 after every retry', async () => {
  const plain = await sharp({ create: { width: 320, height: 240, channels: 3, background: '#8899aa' } }).jpeg().toBuffer();
  assert.ok(ok(await api.v2('POST', '/groups', { groupId: 'hard-none' })));
  assert.equal(code(await api.v2('POST', '/groups/hard-none/faces/search', { image: { bytes: b64(plain) }, limit: 5, threshold: 50 })), -40000);
});
