import type { ModelRunner } from './solo.js';
import { ort } from './models.js';
import { cropResize, type Box, type Point, type RgbImage } from './image.js';

/**
 * Five points in the order the ArcFace template uses, named by side *of the image*:
 * left eye, right eye, nose tip, left mouth corner, right mouth corner.
 */
export type FivePoints = [Point, Point, Point, Point, Point];

const SIZE = 64;

/** 68-point landmark regressor on a 64x64 grey crop of the detector box. */
export class LandmarkModel {
  constructor(private readonly session: ModelRunner) {}

  async predict(image: RgbImage, box: Box): Promise<Point[]> {
    const w = box.x2 - box.x1;
    const h = box.y2 - box.y1;
    const rgb = cropResize(image, box.x1, box.y1, w, h, SIZE, SIZE);
    const input = new Float32Array(SIZE * SIZE);
    for (let i = 0; i < input.length; i++) {
      input[i] = (0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2]) / 256;
    }
    const out = await this.session.run({ input: new ort.Tensor('float32', input, [1, 1, SIZE, SIZE]) });
    const v = out.output.data as Float32Array;
    const pts: Point[] = [];
    for (let i = 0; i < 68; i++) pts.push({ x: box.x1 + v[i * 2] * w, y: box.y1 + v[i * 2 + 1] * h });
    return pts;
  }
}

const mean = (pts: Point[]): Point => ({
  x: pts.reduce((s, p) => s + p.x, 0) / pts.length,
  y: pts.reduce((s, p) => s + p.y, 0) / pts.length,
});

/** iBUG-68 → 5 points: eye centres (36–41, 42–47), nose tip 30, mouth corners 48 and 54. */
export function fivePointsFrom68(p: Point[]): FivePoints {
  return [mean(p.slice(36, 42)), mean(p.slice(42, 48)), { ...p[30] }, { ...p[48] }, { ...p[54] }];
}
