/** Result codes a caller commonly branches on (the full list is in docs/api-compatibility.md). */
export const ResultCodes = {
  Success: 0,
  PartialSuccessQuotaExceeded: 40070,
  InvalidParam: -40000,
  InvalidGroupId: -40010,
  DuplicatedGroupId: -40020,
  NotFoundGroup: -40030,
  InvalidToken: -40040,
  NotFoundFaceId: -40050,
  QuotaExceeded: -40070,
  NotFoundPerson: -40080,
  FaceAlreadyAssociated: -40090,
  NotFoundJob: -40100,
  UnauthorizedAppKey: -41000,
  UnauthorizedAppKeyOrSecretKey: -41005,
  ImageTooLarge: -45020,
  InvalidImageBytes: -45030,
  InvalidImageFormat: -45040,
  InvalidImageUrl: -45050,
  ImageTimeout: -45060,
  InvalidImageSize: -45070,
  InvalidImageFile: -45080,
  InternalServerError: -50000,
} as const;

/**
 * The server answered with `isSuccessful: false`; `resultCode` is NHN's code. `detail` is the
 * reason in words (facerec's `header.detail`; NHN's own service sends none): for people and logs,
 * while code should branch on `resultCode`.
 */
export class FacerecApiError extends Error {
  constructor(
    readonly resultCode: number,
    readonly resultMessage: string,
    /** The server's `x-request-id`, to find the request in its logs. */
    readonly requestId?: string,
    /** Seconds after which a retry may succeed (the server sends `Retry-After` when overloaded). */
    readonly retryAfterSeconds?: number,
    /** Why the request failed, e.g. "limit must be an integer from 1 to 20; it is 50". */
    readonly detail?: string,
  ) {
    super(`${resultMessage} (resultCode ${resultCode})${detail ? `: ${detail}` : ''}`);
    this.name = 'FacerecApiError';
  }
}

/** The answer was not an NHN envelope at all (a proxy error page, a wrong base URL, …). */
export class FacerecProtocolError extends Error {
  constructor(
    readonly httpStatus: number,
    message: string,
  ) {
    super(message);
    this.name = 'FacerecProtocolError';
  }
}
