import type { FivePoints } from './landmarks.js';

/**
 * Head pose in degrees, from the geometry of the five points.
 *  - yaw   > 0: the face turns towards the image's right (the subject's left);
 *  - pitch > 0: the face tilts up;
 *  - roll  > 0: the face rotates clockwise in the image (its right-hand eye lower).
 * Each is 0 for a frontal, upright face.
 */
export interface Pose {
  yaw: number;
  pitch: number;
  roll: number;
}

/** Gains from degrees of normalised offset to degrees of rotation (fitted in bench/pose-calibration.ts). */
export const POSE_GAINS = { yaw: 1, pitch: 1 };

/** Where the nose sits between eye line and mouth line on the frontal ArcFace template. */
const FRONTAL_NOSE_RATIO = (71.7366 - 51.599) / (92.2848 - 51.599);

const deg = (r: number) => (r * 180) / Math.PI;

export function estimatePose(p: FivePoints): Pose {
  const [le, re, nose, lm, rm] = p;
  const roll = Math.atan2(re.y - le.y, re.x - le.x);
  // Undo roll about the eye midpoint so yaw and pitch read off axis-aligned offsets.
  const cx = (le.x + re.x) / 2;
  const cy = (le.y + re.y) / 2;
  const cos = Math.cos(-roll);
  const sin = Math.sin(-roll);
  const rot = (q: { x: number; y: number }) => ({
    x: cos * (q.x - cx) - sin * (q.y - cy),
    y: sin * (q.x - cx) + cos * (q.y - cy),
  });
  const [l, r, n, ml, mr] = [le, re, nose, lm, rm].map(rot);
  const eyeY = (l.y + r.y) / 2;
  const mouthY = (ml.y + mr.y) / 2;
  const faceHeight = Math.max(1e-6, mouthY - eyeY);
  // Horizontal: nose against the centre line of eyes and mouth, in units of half the face height,
  // which (unlike eye distance) does not shrink as the head turns.
  const midX = (l.x + r.x + ml.x + mr.x) / 4;
  const yawSin = (n.x - midX) / (faceHeight * 0.9);
  const yaw = deg(Math.asin(clamp(yawSin * POSE_GAINS.yaw, -1, 1)));
  const ratio = (n.y - eyeY) / faceHeight;
  const pitch = deg(Math.asin(clamp((FRONTAL_NOSE_RATIO - ratio) * 2 * POSE_GAINS.pitch, -1, 1)));
  return { yaw, pitch, roll: deg(roll) };
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
