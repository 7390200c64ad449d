import type { Pose } from './pose.js';

export interface Quality {
  /** 0..1 overall: the product of the size, sharpness and pose factors below. */
  score: number;
  /** Shorter side of the face box in pixels of the original image. */
  faceSize: number;
  /** Variance of the Laplacian of the aligned grey face; below ~50 reads as blurred. */
  sharpness: number;
  /** True when NHN's recognition rule holds: face ≥ 60×60 px, |yaw| and |pitch| ≤ 45°. */
  recognizable: boolean;
}

export const MIN_RECOGNIZABLE_FACE = 60;
export const MAX_RECOGNIZABLE_ANGLE = 45;

/** Variance of the 4-neighbour Laplacian over an RGB buffer's luma. */
export function laplacianVariance(rgb: Uint8Array, w: number, h: number): number {
  const g = new Float32Array(w * h);
  for (let i = 0; i < g.length; i++) g[i] = 0.299 * rgb[i * 3] + 0.587 * rgb[i * 3 + 1] + 0.114 * rgb[i * 3 + 2];
  let sum = 0, sum2 = 0, n = 0;
  for (let y = 1; y < h - 1; y++) {
    for (let x = 1; x < w - 1; x++) {
      const i = y * w + x;
      const l = g[i - 1] + g[i + 1] + g[i - w] + g[i + w] - 4 * g[i];
      sum += l;
      sum2 += l * l;
      n++;
    }
  }
  const m = sum / n;
  return sum2 / n - m * m;
}

export function assessQuality(faceSize: number, sharpness: number, pose: Pose): Quality {
  const sizeFactor = Math.min(1, faceSize / 112);
  const sharpFactor = Math.min(1, sharpness / 100);
  const angle = Math.max(Math.abs(pose.yaw), Math.abs(pose.pitch));
  const poseFactor = Math.max(0, Math.cos((angle * Math.PI) / 180));
  return {
    score: sizeFactor * sharpFactor * poseFactor,
    faceSize,
    sharpness,
    recognizable: faceSize >= MIN_RECOGNIZABLE_FACE && Math.abs(pose.yaw) <= MAX_RECOGNIZABLE_ANGLE && Math.abs(pose.pitch) <= MAX_RECOGNIZABLE_ANGLE,
  };
}
