import type { BBox, Orientation } from '../api/types';

export const formatDegrees = (deg: number) => `${deg > 0 ? '+' : deg < 0 ? '−' : ''}${Math.abs(deg).toFixed(0)}°`;

/** x = yaw, y = pitch, z = roll (NHN's orientation object). */
export const formatPose = (o: Orientation | undefined) =>
  o ? `yaw ${formatDegrees(o.x)} · pitch ${formatDegrees(o.y)} · roll ${formatDegrees(o.z)}` : '—';

export const formatSimilarity = (s: number) => s.toFixed(1);

export const formatConfidence = (c: number) => c.toFixed(3);

/** Box size as a share of the image: the API gives fractions, the image size is the client's. */
export const formatBoxShare = (b: BBox) => `${Math.round((b.x1 - b.x0) * 100)}% × ${Math.round((b.y1 - b.y0) * 100)}%`;

export const shortId = (id: string) => id.slice(0, 8);
