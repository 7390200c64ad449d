/** Why an image could not be analysed. The domain maps each kind onto an API result code. */
export type ImageErrorKind =
  | 'empty'
  | 'unsupported-format'
  | 'decode-failed'
  | 'too-small'
  | 'too-many-pixels'
  /** An `alignedFace` request whose image is not the 224×224 crop NHN's spoofing API expects. */
  | 'not-aligned-size';

export class ImageError extends Error {
  constructor(
    readonly kind: ImageErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

export const isImageError = (e: unknown): e is ImageError =>
  e instanceof ImageError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'ImageError');
