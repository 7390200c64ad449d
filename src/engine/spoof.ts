/**
 * The three NHN `spoofingCondition` operating points, as thresholds on `liveScore` (the
 * probability that a face is live, src/engine/liveness.ts). A face is live when its score
 * reaches the threshold and spoofed below it.
 *
 * Chosen with bench/spoof.ts (`npm run bench:spoof`) on the development halves only: NUAA,
 * 152 live / 140 printed-photo webcam frames, and MSU-MFSD, 18 live / 54 print, iPad-replay and
 * iPhone-replay frames. The even-numbered subjects are held back for the final measurement.
 * - Target for `balanced`: APCER and BPCER ≤ 5 % on NUAA and ≤ 20 % on MSU-MFSD. Every NUAA
 *   print scores under 0.01 and 3 % of its live frames under 0.95, so MSU-MFSD decides: the
 *   target holds there for thresholds from about 0.49 to 0.88. `balanced` is the round value
 *   at the middle of that range on the logit scale, 0.70: 2 of 54 attacks pass (the target
 *   allows 10) and 2 of 18 live frames are rejected (it allows 3). Those two score 0.1 and 0.25
 *   and the next live frame 0.81, so MSU-MFSD BPCER is the same anywhere from 0.26 to 0.81.
 * - `weak` is 0.5, where the model finds live more likely than not. No NUAA or MSU-MFSD live
 *   frame falls between 0.5 and 0.7, so it gains nothing there, but poorer cameras and tight
 *   crops pull live scores down (selfrec_alexcamargoweb), and it still keeps MSU-MFSD APCER
 *   under 20 %.
 * - `strict` is 0.9: it lets through no MSU-MFSD replay and one print in 54, and rejects
 *   about a fifth of MSU-MFSD live frames (3 % on NUAA).
 * Values are round on purpose: one MSU-MFSD live image is 5.6 points of BPCER, so the data
 * cannot place a threshold more finely, and the hidden half will shift the scores. An earlier
 * note put thresholds at 0.97+ because replays scored high; that is what RGB input gives. With
 * BGR input no MSU-MFSD replay scores above 0.8.
 */
export type SpoofCondition = 'weak' | 'balanced' | 'strict';

export const SPOOF_CONDITIONS: readonly SpoofCondition[] = ['weak', 'balanced', 'strict'];

/** NHN's default when a request names no condition. */
export const DEFAULT_SPOOF_CONDITION: SpoofCondition = 'balanced';

export const SPOOF_THRESHOLDS: Readonly<Record<SpoofCondition, number>> = Object.freeze({
  weak: 0.5,
  balanced: 0.7,
  strict: 0.9,
});

export function isSpoofCondition(value: unknown): value is SpoofCondition {
  return typeof value === 'string' && (SPOOF_CONDITIONS as readonly string[]).includes(value);
}

/** True when the face should be reported as spoofed (NHN `spoofing: true`). */
export function isSpoof(liveScore: number, condition: SpoofCondition = DEFAULT_SPOOF_CONDITION): boolean {
  return liveScore < SPOOF_THRESHOLDS[condition];
}
