/** A photo re-encoded smaller than the server's cap, and what it was before. */
export interface ShrunkImage {
  file: File;
  originalBytes: number;
  width: number;
  height: number;
}

/** JPEG quality of the re-encoding: faces stay sharp; size is brought down by pixels first. */
const QUALITY = 0.9;
const MAX_ATTEMPTS = 8;

/**
 * Phone photos (4–12 MB) are over NHN's 3,000,000-byte cap. Rather than have the server refuse
 * them (-45020), the browser redraws the photo smaller (as the user sees it: EXIF orientation
 * applied) and encodes it as JPEG, stepping the size down until the bytes fit. Faces need far
 * fewer pixels than a phone takes, so detection is unaffected. Box and landmark coordinates are
 * fractions of the image, so they fit the original picture as well.
 */
export async function shrinkToFit(file: File, maxBytes: number): Promise<ShrunkImage> {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image' });
  try {
    // JPEG at this quality takes roughly 1–3 bits a pixel: start near the size that should fit.
    let scale = Math.min(1, Math.sqrt((maxBytes * 8) / 2 / (bitmap.width * bitmap.height)));
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const width = Math.max(1, Math.round(bitmap.width * scale));
      const height = Math.max(1, Math.round(bitmap.height * scale));
      const blob = await encodeJpeg(bitmap, width, height);
      // The user's file name is kept: register takes it as externalImageId; the server goes by content.
      if (blob.size <= maxBytes) {
        return { file: new File([blob], file.name, { type: 'image/jpeg' }), originalBytes: file.size, width, height };
      }
      // Bytes grow with the pixel count: shrink each side by the square root of the excess, a little more.
      scale *= Math.max(0.5, Math.min(0.9, Math.sqrt(maxBytes / blob.size) * 0.95));
    }
  } finally {
    bitmap.close();
  }
  throw new Error(`could not bring ${file.name} under ${maxBytes} bytes`);
}

async function encodeJpeg(bitmap: ImageBitmap, width: number, height: number): Promise<Blob> {
  const canvas = document.createElement('canvas');
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error('this browser cannot draw on a canvas');
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, 0, 0, width, height);
  return new Promise((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('JPEG encoding failed'))), 'image/jpeg', QUALITY));
}

export const megabytes = (bytes: number) => `${(bytes / 1_000_000).toFixed(1)} MB`;
