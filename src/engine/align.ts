import { warpAffine, type Affine, type Point, type RgbImage } from './image.js';
import type { FivePoints } from './landmarks.js';

/** The standard ArcFace 112x112 five-point template (insightface). */
export const ARCFACE_TEMPLATE: FivePoints = [
  { x: 38.2946, y: 51.6963 },
  { x: 73.5318, y: 51.5014 },
  { x: 56.0252, y: 71.7366 },
  { x: 41.5493, y: 92.3655 },
  { x: 70.7299, y: 92.2041 },
];

/**
 * Least-squares similarity (rotation, uniform scale, translation) taking `from` onto `to`:
 *   to.x = a*from.x - b*from.y + tx,  to.y = b*from.x + a*from.y + ty
 */
export function fitSimilarity(from: readonly Point[], to: readonly Point[]): { a: number; b: number; tx: number; ty: number } {
  const n = from.length;
  let fx = 0, fy = 0, tx = 0, ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i].x; fy += from[i].y; tx += to[i].x; ty += to[i].y;
  }
  fx /= n; fy /= n; tx /= n; ty /= n;
  let sxx = 0, sab = 0, sba = 0;
  for (let i = 0; i < n; i++) {
    const ux = from[i].x - fx, uy = from[i].y - fy;
    const vx = to[i].x - tx, vy = to[i].y - ty;
    sxx += ux * ux + uy * uy;
    sab += ux * vx + uy * vy;
    sba += ux * vy - uy * vx;
  }
  const a = sab / sxx;
  const b = sba / sxx;
  return { a, b, tx: tx - (a * fx - b * fy), ty: ty - (b * fx + a * fy) };
}

/** Warps the face onto the 112x112 ArcFace template. Returns RGB bytes. */
export function alignFace(image: RgbImage, points: FivePoints, size = 112): Uint8Array {
  const k = size / 112;
  const template = ARCFACE_TEMPLATE.map((p) => ({ x: p.x * k, y: p.y * k }));
  // Fit template → image directly: that is the map warpAffine needs (output pixel → source).
  const { a, b, tx, ty } = fitSimilarity(template, points);
  const map: Affine = [a, -b, tx, b, a, ty];
  return warpAffine(image, map, size, size);
}
