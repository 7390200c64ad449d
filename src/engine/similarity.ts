// placeholder, replaced after calibration
export const MATCH_THRESHOLD = 70;
export function toSimilarity(c: number): number { return Math.max(0, Math.min(100, c * 100)); }
export function fromSimilarity(s: number): number { return s / 100; }
