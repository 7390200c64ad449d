import type { FaceAnalyzer } from '../engine/analyzer.js';
import type { AnalyzeOptions, AnalyzeResultFor } from '../engine/engine.js';
import { isEngineBusy, isImageError, type ImageErrorKind } from '../engine/errors.js';
import { isImageFetchError, type ImageFetchError } from '../net/image-fetch.js';
import { FaceApiError, type ErrorName } from './errors.js';
import type { ImageInput } from './types.js';

/** Downloads an image URL; failures are ImageFetchErrors, which the reader turns into result codes. */
export type UrlFetcher = (url: string) => Promise<Uint8Array>;

const IMAGE_ERROR_CODES: Record<ImageErrorKind, ErrorName> = {
  empty: 'InvalidImageBytesException',
  'unsupported-format': 'InvalidImageFormatException',
  'decode-failed': 'InvalidImageFileException',
  'too-small': 'InvalidImageSizeException',
  'too-many-pixels': 'InvalidImageSizeException',
  'not-aligned-size': 'InvalidImageSizeException',
};

export class ImageReader {
  constructor(
    private readonly analyzer: FaceAnalyzer,
    private readonly fetchUrl: UrlFetcher,
    private readonly maxBytes: number,
  ) {}

  async bytes(input: ImageInput): Promise<Uint8Array> {
    const bytes = 'bytes' in input ? input.bytes : await this.download(input.url);
    if (bytes.length > this.maxBytes) throw new FaceApiError('ImageTooLargeException', `the image is ${bytes.length} bytes; at most ${this.maxBytes} bytes`);
    if (bytes.length === 0) throw new FaceApiError('InvalidImageBytesException', 'the image is empty (0 bytes)');
    return bytes;
  }

  /** Reads and analyses an image, turning engine failures into API errors. */
  async analyze<O extends AnalyzeOptions>(input: ImageInput, options: O): Promise<AnalyzeResultFor<O>> {
    const bytes = await this.bytes(input);
    try {
      return await this.analyzer.analyze(bytes, options);
    } catch (e) {
      if (isImageError(e)) throw new FaceApiError(IMAGE_ERROR_CODES[e.kind], e.message, undefined, e.libraryText ? { cause: new Error(e.libraryText) } : undefined);
      if (isEngineBusy(e)) throw new FaceApiError('InternalServerError', e.message, 1);
      throw e;
    }
  }

  private async download(url: string): Promise<Uint8Array> {
    try {
      return await this.fetchUrl(url);
    } catch (e) {
      if (isImageFetchError(e)) throw downloadFailure(e);
      throw e;
    }
  }
}

/**
 * Refused addresses, ports and schemes are -45050, a time-out -45060, an oversized body -45020.
 * The downloader's message is already the client's sentence; its cause is for the log.
 */
function downloadFailure(e: ImageFetchError): FaceApiError {
  const cause = e.cause instanceof Error ? { cause: e.cause } : undefined;
  if (e.kind === 'timeout') return new FaceApiError('ImageTimeoutError', e.message, undefined, cause);
  if (e.kind === 'too-large') return new FaceApiError('ImageTooLargeException', e.message, undefined, cause);
  return new FaceApiError('InvalidImageURLException', e.message, undefined, cause);
}
