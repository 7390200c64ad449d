/**
 * Why an image could not be analysed. The domain maps each kind onto an API result code and shows
 * the message to the client, so it states sizes and formats, never a decoder's own words: those
 * go in `libraryText`, for the log.
 */
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
    readonly libraryText?: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

export const isImageError = (e: unknown): e is ImageError =>
  e instanceof ImageError || (typeof e === 'object' && e !== null && (e as { name?: unknown }).name === 'ImageError');

/** Raised at once (never queued) when every worker is busy and the wait queue is full. */
export class EngineBusyError extends Error {
  constructor() {
    super('all face engine workers are busy and the queue is full; retry shortly');
    this.name = 'EngineBusyError';
  }
}

export const isEngineBusy = (e: unknown): e is EngineBusyError => e instanceof EngineBusyError;
