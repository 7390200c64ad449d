/**
 * Turns any error a request ends with into what the client is told: NHN's result name and code,
 * and `header.detail`, one sentence saying what was wrong. Domain errors (FaceApiError) carry
 * their own sentence; framework errors get ours here, because Fastify's texts name its internals
 * ("FST_…", "content-type parser") or quote the URL, appKey included. Unexpected failures say
 * nothing of themselves: only the request id, under which the log has the details.
 */
import type { FastifyError } from 'fastify';
import { FaceApiError, RESULT_CODES, type ErrorName } from '../domain/errors.js';
import { StoreUnavailableError } from '../store/store.js';

export interface Refusal {
  name: ErrorName;
  code: number;
  detail: string;
}

export interface RefusalLimits {
  /** The largest image (bytes) the API takes. */
  maxImageBytes: number;
  /** The largest request body (bytes) Fastify reads. */
  bodyLimit: number;
}

const refusal = (name: ErrorName, detail: string): Refusal => ({ name, code: RESULT_CODES[name], detail });

/** A client-sent header value in a sentence: printable ASCII only, and short. */
const quoted = (value: string | undefined) => JSON.stringify((value ?? '').replace(/[^\x20-\x7e]/g, '?').slice(0, 80));

export function refusalOf(err: FastifyError | FaceApiError, requestId: string, limits: RefusalLimits, contentType?: string): Refusal {
  if (err instanceof FaceApiError) return refusal(err.resultName, err.message);
  // PostgreSQL mode: the database restarting or out of reach. Said plainly, so a client retries.
  if (err instanceof StoreUnavailableError) return refusal('InternalServerError', `${err.message}; nothing was changed by this request unless it said so before, retry shortly`);
  switch ((err as FastifyError).code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return refusal(
        'ImageTooLargeException',
        `the request body is over ${limits.bodyLimit} bytes, the most the server reads; an image may be at most ${limits.maxImageBytes} bytes (base64 makes it a third larger)`,
      );
    case 'FST_REQ_FILE_TOO_LARGE':
      return refusal('ImageTooLargeException', `an uploaded file is over ${limits.maxImageBytes} bytes, the image limit`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return refusal(
        'InvalidParam',
        contentType
          ? `Content-Type ${quoted(contentType)} is not accepted; send application/json (v2.0 image operations also take multipart/form-data)`
          : 'the request has a body but no Content-Type; send application/json (v2.0 image operations also take multipart/form-data)',
      );
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return refusal('InvalidParam', 'the body is empty although Content-Type is application/json; send a JSON object');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return refusal('InvalidParam', 'the body is not valid JSON although Content-Type is application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return refusal('InvalidParam', 'the body is not as long as its Content-Length header says');
    case 'FST_INVALID_MULTIPART_CONTENT_TYPE':
      return refusal('InvalidParam', 'the body is not multipart/form-data');
  }
  if (isClientError(err)) return refusal('InvalidParam', 'the request is malformed and could not be read');
  return refusal('InternalServerError', `the server failed unexpectedly; its log has the details under request id ${requestId}`);
}

/** Malformed bodies and protocol misuse (4xx from Fastify or its plugins) are the client's to fix. */
function isClientError(err: FastifyError): boolean {
  const c = err.code ?? '';
  if (c.startsWith('FST_ERR_CTP') || c.startsWith('FST_ERR_VALIDATION') || c.startsWith('FST_INVALID_MULTIPART')) return true;
  if (['FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT', 'FST_PROTO_VIOLATION', 'FST_NO_FORM_DATA'].includes(c)) return true;
  return err.statusCode !== undefined && err.statusCode < 500;
}

/**
 * URLs the router cannot take apart: bad percent-encoding, or a path segment over the router's
 * limit (group ids are at most 255 characters, so only junk gets there).
 */
export function unroutableUrl(err: FastifyError): Refusal {
  if (err.code === 'FST_ERR_MAX_PARAM_LENGTH') return refusal('InvalidParam', 'a path segment is too long (group ids are at most 255 characters)');
  if (err.code === 'FST_ERR_BAD_URL') return refusal('InvalidParam', 'the URL path has a malformed percent-encoding (%XX)');
  return refusal('InvalidParam', 'the URL could not be routed');
}

/** The 404 answer: which path was asked for (pass it with the appKey hidden) and where the API lives. */
export function noSuchRoute(method: string, url: string): Refusal {
  const path = url.split('?')[0].replace(/[^\x21-\x7e]/g, '?');
  const shown = path.length > 120 ? `${path.slice(0, 120)}…` : path;
  return refusal(
    'InvalidParam',
    `no API operation ${method} ${shown}; the API lives under /v2.0/appkeys/{appKey}/… and /nhn-face-reco/v1.0/appkeys/{appKey}/… (reference at /docs)`,
  );
}
