/**
 * Face masks painted by the benches onto photos they only measure: one surgical-mask outline on
 * the ArcFace 112×112 template, drawn either on an aligned crop (bench:mask --embedding-check:
 * the embedder alone) or, carried through the face's own five points, onto the whole photo
 * (bench:hard-faces: detection, landmarks, alignment and the embedder together).
 */
import sharp from 'sharp';
import { ARCFACE_TEMPLATE, fitSimilarity } from '../src/engine/align.js';
import type { FaceLandmarks } from '../src/engine/engine.js';

/** From the nose bridge (the template's eyes sit at y≈52) to below the chin, cheek to cheek. */
export const MASK_POLYGON: readonly [number, number][] = [[14, 64], [40, 58], [56, 57], [72, 58], [98, 64], [96, 96], [78, 112], [34, 112], [16, 96]];

/** Colours of common masks: light-blue surgical, white, black cloth. */
export const MASK_COLOURS = ['#9cc7e6', '#eeeeee', '#222222'] as const;

/** The mask outline in the photo's pixels, for a face with these landmarks. */
export function maskOutline(landmarks: FaceLandmarks): [number, number][] {
  const points = [landmarks.leftEye, landmarks.rightEye, landmarks.nose, landmarks.leftMouth, landmarks.rightMouth];
  // Template → photo: the same similarity the aligner fits, used the other way round.
  const { a, b, tx, ty } = fitSimilarity(ARCFACE_TEMPLATE, points);
  return MASK_POLYGON.map(([x, y]) => [a * x - b * y + tx, b * x + a * y + ty]);
}

/** The photo (any format sharp reads, EXIF orientation applied) with a mask painted over the face, as JPEG. */
export async function paintMask(photo: Uint8Array, landmarks: FaceLandmarks, colour: string): Promise<Uint8Array> {
  const upright = sharp(photo).rotate();
  const { width, height } = await upright.clone().metadata().then((m) => {
    // metadata() reports the stored size; a 90° EXIF turn swaps it.
    const turned = (m.orientation ?? 1) >= 5;
    return { width: turned ? m.height! : m.width!, height: turned ? m.width! : m.height! };
  });
  const d = maskOutline(landmarks).map(([x, y], i) => `${i === 0 ? 'M' : 'L'} ${x.toFixed(1)} ${y.toFixed(1)}`).join(' ') + ' Z';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><path d="${d}" fill="${colour}"/></svg>`;
  return new Uint8Array(await upright.composite([{ input: Buffer.from(svg) }]).jpeg({ quality: 92 }).toBuffer());
}

/** Even-odd point-in-polygon test, for drawing on a raw crop. */
export function insidePolygon(x: number, y: number, poly: readonly [number, number][]): boolean {
  let inside = false;
  for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
    const [xi, yi] = poly[i], [xj, yj] = poly[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}
