import { useEffect, useRef } from 'react';
import type { BBox } from '../api/types';

interface Props {
  /** URL of the image the box refers to (the user's own upload: the server keeps no images). */
  src: string;
  bbox: BBox;
  size?: number;
  color?: string;
  title?: string;
}

/** A square thumbnail around a face box, with some margin, cut from the image in the browser. */
export function FaceCrop({ src, bbox, size = 96, color, title }: Props) {
  const canvas = useRef<HTMLCanvasElement>(null);

  useEffect(() => {
    let cancelled = false;
    const img = new Image();
    img.onload = () => {
      const c = canvas.current;
      if (cancelled || !c) return;
      const region = cropRegion(bbox, img.naturalWidth, img.naturalHeight);
      const scale = size / Math.max(region.w, region.h);
      c.width = Math.round(region.w * scale);
      c.height = Math.round(region.h * scale);
      c.getContext('2d')?.drawImage(img, region.x, region.y, region.w, region.h, 0, 0, c.width, c.height);
    };
    img.src = src;
    return () => {
      cancelled = true;
    };
  }, [src, bbox, size]);

  return <canvas ref={canvas} className="crop" data-testid="face-crop" title={title} style={{ width: size, height: size, borderColor: color }} />;
}

/** The box grown by a quarter on each side and made square, clipped to the image. */
function cropRegion(b: BBox, w: number, h: number) {
  const cx = ((b.x0 + b.x1) / 2) * w;
  const cy = ((b.y0 + b.y1) / 2) * h;
  const side = Math.max((b.x1 - b.x0) * w, (b.y1 - b.y0) * h) * 1.5;
  const x = Math.max(0, cx - side / 2);
  const y = Math.max(0, cy - side / 2);
  return { x, y, w: Math.max(1, Math.min(w - x, side)), h: Math.max(1, Math.min(h - y, side)) };
}
