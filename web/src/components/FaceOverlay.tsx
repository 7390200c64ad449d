import { useState } from 'react';
import type { BBox, Landmark } from '../api/types';

export interface OverlayFace {
  bbox: BBox;
  landmarks?: Landmark[];
  color: string;
  label: string;
  /** Drawn dashed: a face the operation left out (not registered, not matched). */
  dashed?: boolean;
}

interface Props {
  src: string;
  faces: OverlayFace[];
  alt: string;
  testId?: string;
}

/**
 * The image with an SVG on top in the image's own pixel space: the API's 0–1 coordinates times
 * the natural size, so the drawing scales with the displayed image.
 */
export function FaceOverlay({ src, faces, alt, testId }: Props) {
  const [size, setSize] = useState<{ src: string; w: number; h: number } | null>(null);
  const known = size && size.src === src ? size : null;

  return (
    <figure className="overlay" data-testid={testId}>
      <img src={src} alt={alt} onLoad={(e) => setSize({ src, w: e.currentTarget.naturalWidth, h: e.currentTarget.naturalHeight })} />
      {known && (
        <svg viewBox={`0 0 ${known.w} ${known.h}`} preserveAspectRatio="none" aria-hidden="true">
          {faces.map((f, i) => (
            <FaceMarks key={i} face={f} w={known.w} h={known.h} />
          ))}
        </svg>
      )}
    </figure>
  );
}

function FaceMarks({ face, w, h }: { face: OverlayFace; w: number; h: number }) {
  const x = face.bbox.x0 * w;
  const y = face.bbox.y0 * h;
  const bw = (face.bbox.x1 - face.bbox.x0) * w;
  const bh = (face.bbox.y1 - face.bbox.y0) * h;
  const dot = Math.max(1.5, Math.min(bw, bh) * 0.035);
  const font = Math.max(10, Math.max(w, h) * 0.022);
  const labelAbove = y > font * 1.3;
  return (
    <g data-testid="face-box">
      <rect x={x} y={y} width={bw} height={bh} fill="none" stroke={face.color} strokeWidth={2.5} vectorEffect="non-scaling-stroke" strokeDasharray={face.dashed ? '6 4' : undefined} />
      {face.landmarks?.map((l) => (
        <circle key={l.type} data-testid="landmark" cx={l.x * w} cy={l.y * h} r={dot} fill={face.color} stroke="#0b1020" strokeWidth={1} vectorEffect="non-scaling-stroke">
          <title>{l.type}</title>
        </circle>
      ))}
      <text x={x} y={labelAbove ? y - font * 0.3 : y + bh + font} fontSize={font} fill={face.color} className="overlay-label">
        {face.label}
      </text>
    </g>
  );
}
