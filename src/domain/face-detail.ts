import type { AnalyzeResult, EngineFace } from '../engine/engine.js';
import { isSpoof } from '../engine/spoof.js';
import type { BBox, DetailFlags, FaceDetail, Landmark } from './types.js';

const clamp01 = (v: number) => Math.min(1, Math.max(0, v));

export function toBBox(face: EngineFace, width: number, height: number): BBox {
  const { x, y, width: w, height: h } = face.box;
  return { x0: clamp01(x / width), y0: clamp01(y / height), x1: clamp01((x + w) / width), y1: clamp01((y + h) / height) };
}

export function toLandmarks(face: EngineFace, width: number, height: number): Landmark[] {
  const l = face.landmarks;
  const pt = (type: Landmark['type'], p: { x: number; y: number }): Landmark => ({ type, x: clamp01(p.x / width), y: clamp01(p.y / height) });
  return [pt('leftEye', l.leftEye), pt('rightEye', l.rightEye), pt('nose', l.nose), pt('leftLip', l.leftMouth), pt('rightLip', l.rightMouth)];
}

/** Engine face → NHN FaceDetail with only the parts the request asked for. */
export function toFaceDetail(face: EngineFace, image: Pick<AnalyzeResult, 'width' | 'height'>, flags: DetailFlags): FaceDetail {
  const detail: FaceDetail = {
    bbox: toBBox(face, image.width, image.height),
    landmarks: toLandmarks(face, image.width, image.height),
    confidence: face.confidence,
  };
  if (flags.orientation) detail.orientation = { x: face.pose.yaw, y: face.pose.pitch, z: face.pose.roll };
  if (flags.mask) detail.mask = face.mask.masked;
  if (flags.spoofing && face.liveScore !== undefined) detail.spoofing = isSpoof(face.liveScore, flags.spoofingCondition);
  return detail;
}
