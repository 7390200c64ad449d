/**
 * Every failure the API can report, by NHN's symbolic name. The HTTP adapters put the code and
 * the name into the envelope; nothing else in the domain knows about HTTP.
 */
export const RESULT_CODES = {
  Success: 0,
  ServiceQuotaExceededPartialSuccessException: 40070,
  InvalidParam: -40000,
  InvalidGroupID: -40010,
  DuplicatedGroupID: -40020,
  NotFoundGroupError: -40030,
  InvalidTokenError: -40040,
  NotFoundFaceIDError: -40050,
  ServiceQuotaExceededException: -40070,
  // facerec's extension (/x/v1 persons and clustering, docs/persons.md); NHN has no such codes.
  NotFoundPersonError: -40080,
  FaceAlreadyAssociatedError: -40090,
  NotFoundJobError: -40100,
  UnauthorizedAppKey: -41000,
  UnauthorizedAppKeyOrSecretKey: -41005,
  ImageTooLargeException: -45020,
  InvalidImageBytesException: -45030,
  InvalidImageFormatException: -45040,
  InvalidImageURLException: -45050,
  ImageTimeoutError: -45060,
  InvalidImageSizeException: -45070,
  InvalidImageFileException: -45080,
  InternalServerError: -50000,
} as const;

export type ResultName = keyof typeof RESULT_CODES;

export type ErrorName = Exclude<ResultName, 'Success' | 'ServiceQuotaExceededPartialSuccessException'>;

/**
 * A refusal with its NHN result and the reason. The message goes to the client as `header.detail`,
 * so it is one short sentence saying what is wrong and how to fix it, and it must be safe to
 * show: never a secret, a key, a server path, a stack or a library's own text. Such text, when it
 * helps the operator, travels as `cause`, which only the log sees.
 */
export class FaceApiError extends Error {
  readonly code: number;
  constructor(
    readonly resultName: ErrorName,
    message: string,
    /** Seconds after which a retry may succeed (overload); adapters turn it into Retry-After. */
    readonly retryAfterSeconds?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'FaceApiError';
    this.code = RESULT_CODES[resultName];
  }
}

export const invalidParam = (message: string) => new FaceApiError('InvalidParam', message);
