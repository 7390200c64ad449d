import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { FaceEngine, LEAD_FACE_AREA_RATIO, orderFaces, visibleArea, type EngineFace } from '../src/engine/engine.js';
import { cosine } from '../src/engine/vectors.js';
import { isSpoof } from '../src/engine/spoof.js';
import { fixture } from './support/fixtures.js';

let engine: FaceEngine;
before(async () => {
  engine = await FaceEngine.create();
});

const jpeg = (img: sharp.Sharp) => img.jpeg({ quality: 92 }).toBuffer().then((b) => new Uint8Array(b));

/** The face whose box centre, as a fraction of the image, is nearest (cx, cy). */
function faceAt(r: { width: number; height: number; faces: EngineFace[] }, cx: number, cy: number): EngineFace {
  const d = (f: EngineFace) => Math.hypot((f.box.x + f.box.width / 2) / r.width - cx, (f.box.y + f.box.height / 2) / r.height - cy);
  return [...r.faces].sort((a, b) => d(a) - d(b))[0];
}
const centre = (r: { width: number; height: number }, f: EngineFace) => [(f.box.x + f.box.width / 2) / r.width, (f.box.y + f.box.height / 2) / r.height] as const;

describe('detection', () => {
  test('finds every face of known group photos, largest first', async () => {
    for (const [name, count] of [['sample1.jpg', 3], ['sample5.jpg', 5]] as const) {
      const r = await engine.analyze(fixture(name));
      assert.equal(r.faces.length, count, name);
      const areas = r.faces.map((f) => visibleArea({ x1: f.box.x, y1: f.box.y, x2: f.box.x + f.box.width, y2: f.box.y + f.box.height }, r.width, r.height));
      assert.deepEqual(areas, [...areas].sort((a, b) => b - a), `${name}: largest first (area inside the image)`);
      for (const f of r.faces) assert.ok(f.confidence > 0.65 && f.confidence <= 1);
    }
  });

  test('maxFaces keeps the largest faces', async () => {
    const all = await engine.analyze(fixture('sample5.jpg'));
    const two = await engine.analyze(fixture('sample5.jpg'), { maxFaces: 2 });
    assert.equal(two.faces.length, 2);
    assert.deepEqual(two.faces.map((f) => f.box), all.faces.slice(0, 2).map((f) => f.box));
  });

  test('a picture without a face yields no face', async () => {
    const plain = await jpeg(sharp({ create: { width: 400, height: 300, channels: 3, background: { r: 90, g: 140, b: 200 } } }));
    const r = await engine.analyze(plain);
    assert.equal(r.faces.length, 0);
  });
});

test('faces are ordered by the area of their box inside the image, ties by confidence', () => {
  const face = (cx: number, cy: number, side: number, score = 0.9) => ({ box: { x1: cx - side / 2, y1: cy - side / 2, x2: cx + side / 2, y2: cy + side / 2 }, score });
  const edgeBig = face(60, 100, 100);
  const centreNearlyAsBig = face(200, 100, 95);
  const centreSmall = face(200, 100, 50);
  assert.deepEqual(orderFaces([centreNearlyAsBig, edgeBig], 400, 200), [edgeBig, centreNearlyAsBig], 'NHN: the largest leads');
  assert.deepEqual(orderFaces([centreSmall, centreNearlyAsBig, edgeBig], 400, 200), [edgeBig, centreNearlyAsBig, centreSmall]);
  // Half of this box lies outside the frame: 50 × 100 px are returned, so it ranks as that.
  const cutByFrame = face(0, 100, 100);
  assert.deepEqual(orderFaces([cutByFrame, centreSmall, centreNearlyAsBig], 400, 200), [centreNearlyAsBig, cutByFrame, centreSmall]);
  const sure = face(100, 100, 80, 0.99);
  const unsure = face(300, 100, 80, 0.7);
  assert.deepEqual(orderFaces([unsure, sure], 400, 200), [sure, unsure], 'equal areas: the more confident first');
});

test("the opt-in 'central' rule gives the lead to the most central of the faces about as large as the largest", () => {
  const face = (cx: number, cy: number, side: number) => ({ box: { x1: cx - side / 2, y1: cy - side / 2, x2: cx + side / 2, y2: cy + side / 2 }, score: 0.9 });
  const edgeBig = face(60, 100, 100);
  const centreNearlyAsBig = face(200, 100, 95);
  const centreSmall = face(200, 100, 50);
  assert.ok(95 * 95 >= LEAD_FACE_AREA_RATIO * 100 * 100);
  assert.deepEqual(orderFaces([edgeBig, centreNearlyAsBig], 400, 200, 'central'), [centreNearlyAsBig, edgeBig]);
  assert.deepEqual(orderFaces([centreSmall, edgeBig], 400, 200, 'central'), [edgeBig, centreSmall]);
  assert.deepEqual(orderFaces([centreSmall, centreNearlyAsBig, edgeBig], 400, 200, 'central'), [centreNearlyAsBig, edgeBig, centreSmall]);
});

describe('landmarks and pose', () => {
  test('five landmarks fall inside their box in anatomical order', async () => {
    const r = await engine.analyze(fixture('sample5.jpg'));
    for (const f of r.faces) {
      const { leftEye, rightEye, nose, leftMouth, rightMouth } = f.landmarks;
      for (const p of [leftEye, rightEye, nose, leftMouth, rightMouth]) {
        assert.ok(p.x >= f.box.x && p.x <= f.box.x + f.box.width, 'x inside box');
        assert.ok(p.y >= f.box.y && p.y <= f.box.y + f.box.height, 'y inside box');
      }
      assert.ok(leftEye.x < rightEye.x, 'left eye is on the image left');
      assert.ok(leftMouth.x < rightMouth.x, 'left mouth corner is on the image left');
      assert.ok(Math.max(leftEye.y, rightEye.y) < nose.y, 'eyes above nose');
      assert.ok(nose.y < Math.max(leftMouth.y, rightMouth.y), 'nose above mouth');
    }
  });

  test('mirroring the image flips the sign of yaw and roll', async () => {
    const bytes = fixture('sample1.jpg');
    const mirrored = await jpeg(sharp(bytes).flop());
    const ra = await engine.analyze(bytes);
    const a = ra.faces[0];
    const [cx, cy] = centre(ra, a);
    const b = faceAt(await engine.analyze(mirrored), 1 - cx, cy);
    assert.ok(Math.abs(a.pose.roll) > 10, `fixture face is tilted (roll ${a.pose.roll})`);
    assert.ok(Math.sign(a.pose.roll) === -Math.sign(b.pose.roll));
    assert.ok(Math.abs(a.pose.roll + b.pose.roll) < 5, 'roll magnitude survives mirroring');
    assert.ok(Math.abs(a.pose.yaw + b.pose.yaw) < 8, 'yaw flips sign');
    assert.ok(Math.abs(a.pose.pitch - b.pose.pitch) < 8, 'pitch unchanged');
  });
});

describe('embeddings', () => {
  const largest = async (bytes: Uint8Array): Promise<EngineFace> => {
    const r = await engine.analyze(bytes, { embed: true, maxFaces: 1 });
    assert.equal(r.faces.length, 1);
    return r.faces[0];
  };

  test('are 512-d and unit length', async () => {
    const f = await largest(fixture('sample1.jpg'));
    assert.equal(f.embedding!.length, 512);
    assert.ok(Math.abs(cosine(f.embedding!, f.embedding!) - 1) < 1e-4);
  });

  test('the same face mirrored, rescaled or recompressed embeds close', async () => {
    const bytes = fixture('sample1.jpg');
    const r = await engine.analyze(bytes, { embed: true });
    const [cx, cy] = centre(r, r.faces[0]);
    const variants: [Uint8Array, number][] = [
      [await jpeg(sharp(bytes).flop()), 1 - cx],
      [await jpeg(sharp(bytes).resize({ width: 900 })), cx],
      [await jpeg(sharp(bytes).jpeg({ quality: 40 })), cx],
    ];
    for (const [v, x] of variants) {
      const f = faceAt(await engine.analyze(v, { embed: true }), x, cy);
      const c = cosine(r.faces[0].embedding!, f.embedding!);
      assert.ok(c > 0.8, `cosine ${c}`);
    }
  });

  test('different people embed far apart', async () => {
    for (const name of ['sample1.jpg', 'sample5.jpg', 'sample6.jpg']) {
      const faces = (await engine.analyze(fixture(name), { embed: true })).faces;
      for (let i = 0; i < faces.length; i++) {
        for (let j = i + 1; j < faces.length; j++) {
          const c = cosine(faces[i].embedding!, faces[j].embedding!);
          assert.ok(c < 0.45, `${name} faces ${i},${j}: cosine ${c}`);
        }
      }
    }
  });
});

describe('liveness', () => {
  /**
   * A print attack made from a real photo: the face cut out with some surroundings, printed on
   * paper with a white margin (lower contrast, lifted blacks), held in front of a plain grey wall
   * and captured again (slight blur, JPEG). Accuracy on real attacks lives in `npm run bench:spoof`;
   * this checks the behaviour end to end on inputs the test makes itself.
   */
  async function printAttack(bytes: Uint8Array, face: EngineFace, width: number, height: number): Promise<Uint8Array> {
    const cx = face.box.x + face.box.width / 2;
    const cy = face.box.y + face.box.height / 2;
    const s = Math.max(face.box.width, face.box.height) * 2;
    const left = Math.max(0, Math.round(cx - s / 2));
    const top = Math.max(0, Math.round(cy - s / 2));
    const side = Math.round(Math.min(s, width - left, height - top));
    const print = await sharp(bytes).extract({ left, top, width: side, height: side }).resize(200, 200).linear(0.8, 30).toBuffer();
    const paper = await sharp({ create: { width: 220, height: 220, channels: 3, background: '#f2f0ea' } }).composite([{ input: print, left: 10, top: 10 }]).png().toBuffer();
    const scene = sharp({ create: { width: 640, height: 480, channels: 3, background: '#7a7d82' } }).composite([{ input: paper, left: 210, top: 130 }]).blur(0.8);
    return new Uint8Array(await scene.jpeg({ quality: 75 }).toBuffer());
  }

  test('live faces score live and the same faces shown as a print score spoof', async () => {
    const bytes = fixture('sample3.jpg');
    const r = await engine.analyze(bytes, { spoof: true });
    for (const face of r.faces.slice(0, 2)) {
      assert.ok(!isSpoof(face.liveScore!, 'balanced'), `live face scored ${face.liveScore}`);
      const attack = (await engine.analyze(await printAttack(bytes, face, r.width, r.height), { spoof: true, maxFaces: 1 })).faces[0];
      assert.ok(attack, 'the printed face is still detected');
      assert.ok(isSpoof(attack.liveScore!, 'weak'), `printed face scored ${attack.liveScore}, spoof even at weak`);
    }
  });
});

describe('decoding', () => {
  test('EXIF orientation is applied before detection', async () => {
    const bytes = fixture('sample1.jpg');
    // Pixels stored rotated 90° with an EXIF tag (6) saying "rotate back when showing".
    const stored = await sharp(bytes).rotate(-90).withMetadata({ orientation: 6 }).jpeg().toBuffer();
    const upright = await engine.analyze(bytes);
    const tagged = await engine.analyze(new Uint8Array(stored));
    assert.equal(tagged.width, upright.width);
    assert.equal(tagged.height, upright.height);
    assert.equal(tagged.faces.length, upright.faces.length);
  });

  test('PNG, grayscale, alpha and 16-bit inputs decode', async () => {
    const bytes = fixture('sample1.jpg');
    const inputs = [
      await sharp(bytes).png().toBuffer(),
      await sharp(bytes).grayscale().jpeg().toBuffer(),
      await sharp(bytes).ensureAlpha(0.8).png().toBuffer(),
      await sharp(bytes).toColourspace('rgb16').png().toBuffer(),
    ];
    for (const b of inputs) {
      const r = await engine.analyze(new Uint8Array(b));
      assert.equal(r.faces.length, 3);
    }
  });
});
