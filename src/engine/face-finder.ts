import type { Detection, FaceDetector } from './detector.js';
import type { FivePoints } from './landmarks.js';
import type { RgbImage } from './image.js';
import type { YunetDetector } from './yunet.js';

/**
 * Which detectors find faces (FACEREC_DETECTOR):
 * - 'rfb320+yunet' (default): RFB-320, and YuNet (with its padded and rotated retries) only when
 *   RFB-320 finds nothing. RFB-320 keeps LFW View-1 at 99.50 % and the 640×480 latency; YuNet
 *   rescues masked faces, tight crops and turned photos (docs/engine.md "Hard faces").
 * - 'yunet': YuNet alone (better on hard faces, 99.20 % on LFW View-1).
 * - 'rfb320': RFB-320 alone, as before YuNet.
 */
export const DETECTOR_SETTINGS = ['rfb320+yunet', 'yunet', 'rfb320'] as const;
export type DetectorSetting = (typeof DETECTOR_SETTINGS)[number];
export const DEFAULT_DETECTOR_SETTING: DetectorSetting = 'rfb320+yunet';

/** A face as found: YuNet's carry its five landmarks, which then align it (see engine.ts). */
export interface FoundFace extends Detection {
  five?: FivePoints;
}

export class FaceFinder {
  constructor(
    readonly setting: DetectorSetting,
    private readonly rfb: FaceDetector | undefined,
    private readonly yunet: YunetDetector | undefined,
  ) {}

  async find(image: RgbImage): Promise<FoundFace[]> {
    if (this.rfb) {
      const found = await this.rfb.detect(image);
      if (found.length > 0 || !this.yunet) return found;
    }
    return this.yunet ? this.yunet.detect(image) : [];
  }

  /** The first detector's single pass: what a photo with an ordinary face costs (self-check). */
  async firstPass(image: RgbImage): Promise<FoundFace[]> {
    return this.rfb ? this.rfb.detect(image) : this.yunet!.pass(image);
  }
}
