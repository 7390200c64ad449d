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

/** What the five points say before calibration; see poseFeatures. */
export interface PoseFeatures {
  /** Nose offset from the eye/mouth centre line, in units of 0.9 x the eye-to-mouth height. */
  yawOffset: number;
  /** Nose height between eye line (0) and mouth line (1), roll removed. */
  noseRatio: number;
  /** Degrees; exact from the eye line, so it needs no calibration. */
  roll: number;
}

export interface PoseCalibration {
  yawGain: number;
  pitchGain: number;
  /** noseRatio of a face with zero pitch. */
  frontalNoseRatio: number;
}

/** Where the nose sits between eye line and mouth line on the frontal ArcFace template. */
const TEMPLATE_NOSE_RATIO = (71.7366 - 51.599) / (92.2848 - 51.599);

/** Geometry alone: unit gains, and the template's nose height taken as frontal. */
export const UNCALIBRATED: PoseCalibration = { yawGain: 1, pitchGain: 1, frontalNoseRatio: TEMPLATE_NOSE_RATIO };

/**
 * Gains from sine of normalised offset to sine of rotation, least-squares fitted in bench/pose.ts
 * against the Hopenet-style reference model (models/onnx/fr_pose.onnx) on 1441 faces from the
 * evaluation photos. Uncalibrated, yaw read ~35 % low and pitch about twice too high.
 */
export const POSE_GAINS = { yaw: 1.54, pitch: 0.47 };

/**
 * Frontal nose height, fitted with the gains. The 68-point model's nose tip (point 30) sits
 * higher between eyes and mouth than the template's nose point (0.495), so the template's value
 * read frontal faces as tilted down.
 */
export const FRONTAL_NOSE_RATIO = 0.378;

export const POSE_CALIBRATION: PoseCalibration = { yawGain: POSE_GAINS.yaw, pitchGain: POSE_GAINS.pitch, frontalNoseRatio: FRONTAL_NOSE_RATIO };

const deg = (r: number) => (r * 180) / Math.PI;

export function poseFeatures(p: FivePoints): PoseFeatures {
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
  // Horizontal: nose against the centre line of eyes and mouth, in units of the face height,
  // which (unlike eye distance) does not shrink as the head turns.
  const midX = (l.x + r.x + ml.x + mr.x) / 4;
  return { yawOffset: (n.x - midX) / (faceHeight * 0.9), noseRatio: (n.y - eyeY) / faceHeight, roll: deg(roll) };
}

export function poseFromFeatures(f: PoseFeatures, c: PoseCalibration = POSE_CALIBRATION): Pose {
  const yaw = deg(Math.asin(clamp(f.yawOffset * c.yawGain, -1, 1)));
  // A nose tip higher than frontal (towards the eyes) means the face tilts up.
  const pitch = deg(Math.asin(clamp((c.frontalNoseRatio - f.noseRatio) * 2 * c.pitchGain, -1, 1)));
  return { yaw, pitch, roll: f.roll };
}

export function estimatePose(p: FivePoints): Pose {
  return poseFromFeatures(poseFeatures(p));
}

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
