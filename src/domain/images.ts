import type { FaceAnalyzer } from '../engine/analyzer.js';
import type { AnalyzeOptions, AnalyzeResult } from '../engine/engine.js';
import { isImageError, type ImageErrorKind } from '../engine/errors.js';
import { FaceApiError, type ErrorName } from './errors.js';
import type { ImageInput } from './types.js';

/** Downloads an image URL; throws FaceApiError (-45050, -45060, -45020) itself. */
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
    const bytes = 'bytes' in input ? input.bytes : await this.fetchUrl(input.url);
    if (bytes.length > this.maxBytes) throw new FaceApiError('ImageTooLargeException', `image is ${bytes.length} bytes; the limit is ${this.maxBytes}`);
    if (bytes.length === 0) throw new FaceApiError('InvalidImageBytesException', 'image is empty');
    return bytes;
  }

  /** Reads and analyses an image, turning engine failures into API errors. */
  async analyze(input: ImageInput, options: AnalyzeOptions): Promise<AnalyzeResult> {
    const bytes = await this.bytes(input);
    try {
      return await this.analyzer.analyze(bytes, options);
    } catch (e) {
      if (isImageError(e)) throw new FaceApiError(IMAGE_ERROR_CODES[e.kind], e.message);
      if ((e as Error)?.name === 'EngineBusyError') throw new FaceApiError('InternalServerError', (e as Error).message, 1);
      throw e;
    }
  }
}
