import type { FastifyRequest } from 'fastify';
import { FaceApiError, invalidParam } from '../domain/errors.js';
import type { DetailFlags, ImageInput } from '../domain/types.js';
import { DEFAULT_SPOOF_CONDITION, isSpoofCondition, type SpoofCondition } from '../engine/spoof.js';

/**
 * Request fields as both transports deliver them: JSON gives typed values, multipart gives
 * strings and file buffers. Everything below accepts either.
 */
export type Fields = Record<string, unknown>;

// Standard or URL-safe alphabet, optional padding, whitespace (line breaks) tolerated.
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;

/** `{url}` or `{bytes}` (base64), exactly one (NHN §1.3). */
export function imageFromJson(value: unknown, field: string): ImageInput {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw invalidParam(`${field} must be an object with url or bytes`);
  // null is "not given", as for every optional field (many JSON encoders write absent fields so).
  const { url = undefined, bytes = undefined } = withoutNulls(value as { url?: unknown; bytes?: unknown });
  if ((url === undefined) === (bytes === undefined)) throw invalidParam(`${field} must have exactly one of url and bytes`);
  if (url !== undefined) {
    if (typeof url !== 'string' || url.length === 0) throw invalidParam(`${field}.url must be a non-empty string`);
    return { url };
  }
  if (typeof bytes !== 'string') throw invalidParam(`${field}.bytes must be a base64 string`);
  return { bytes: decodeBase64(bytes, `${field}.bytes`) };
}

export function decodeBase64(text: string, field: string): Uint8Array {
  const compact = text.replace(/\s+/g, '');
  if (!BASE64.test(compact) || compact.length % 4 === 1) {
    throw new FaceApiError('InvalidImageBytesException', `${field} is not valid base64 (standard or URL-safe alphabet)`);
  }
  // Node's base64 decoder reads both alphabets, so the checked text is decoded as it is.
  return new Uint8Array(Buffer.from(compact, 'base64'));
}

/**
 * NHN's reference names a file part `…File` (`imageFile`, `sourceImageFile`) while its own curl
 * examples send `-F sourceImage=@a.jpg`: both spellings are taken, and sending both is refused.
 */
export function fileSpellings(fileField: string): string[] {
  return fileField.endsWith('File') ? [fileField, fileField.slice(0, -'File'.length)] : [fileField];
}

/** A multipart file part (under either spelling), or else a `…Url` field, exactly one. */
export function imageFromMultipart(fields: Fields, files: Record<string, Buffer>, fileField: string, urlField?: string): ImageInput {
  const given = fileSpellings(fileField).filter((name) => files[name] !== undefined);
  if (given.length > 1) throw invalidParam(`send the image once: both ${given.join(' and ')} were given`);
  const file = given.length === 1 ? files[given[0]] : undefined;
  const url = urlField ? fields[urlField] : undefined;
  if (file && url !== undefined) throw invalidParam(`send either ${given[0]} or ${urlField}, not both`);
  if (file) return { bytes: new Uint8Array(file.buffer, file.byteOffset, file.byteLength) };
  if (typeof url === 'string' && url.length > 0) return { url };
  throw invalidParam(`${fileField}${urlField ? ` or ${urlField}` : ''} is required`);
}

/**
 * The paging query of a list call: a `next-token` pins limit and filters to the values it was
 * issued with (the domain reads them from the token), so whatever `limit` comes beside it is not
 * even parsed; an empty `next-token` is no token.
 */
export function listPage(query: Fields): { limit: number | undefined; nextToken: string | undefined } {
  const token = query['next-token'];
  if (typeof token === 'string' && token !== '') return { limit: undefined, nextToken: token };
  return { limit: int(query, 'limit'), nextToken: undefined };
}

export function bool(fields: Fields, name: string, fallback: boolean): boolean {
  const v = fields[name];
  if (v === undefined) return fallback;
  if (v === true || v === 'true') return true;
  if (v === false || v === 'false') return false;
  throw invalidParam(`${name} must be true or false`);
}

/** Integers arrive as JSON numbers or as query/form strings; "10" is fine, "10.5" and "ten" are not. */
export function int(fields: Fields, name: string): number | undefined {
  const v = fields[name];
  if (v === undefined || v === '') return undefined;
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^-?\d{1,10}$/.test(v)) return Number(v);
  throw invalidParam(`${name} must be an integer`);
}

export function str(fields: Fields, name: string): string | undefined {
  const v = fields[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw invalidParam(`${name} must be a string`);
  return v;
}

export function spoofCondition(fields: Fields): SpoofCondition {
  const v = fields.spoofingCondition;
  if (v === undefined) return DEFAULT_SPOOF_CONDITION;
  if (!isSpoofCondition(v)) throw invalidParam('spoofingCondition must be weak, balanced or strict');
  return v;
}

/** NHN defaults: orientation and mask on, spoofing off. */
export function detailFlags(fields: Fields): DetailFlags {
  return {
    orientation: bool(fields, 'orientation', true),
    mask: bool(fields, 'mask', true),
    spoofing: bool(fields, 'spoofing', false),
    spoofingCondition: spoofCondition(fields),
  };
}

/** The part limits passed to @fastify/multipart below, in words for refusals. */
const MULTIPART_LIMITS = { files: 2, fields: 20, fieldSize: 16 * 1024 };

/** A multipart failure by its code; busboy's own words ("Unexpected end of form") go to the log. */
function multipartProblem(code: string | undefined): string {
  if (code === 'FST_FILES_LIMIT') return `the multipart body has more than ${MULTIPART_LIMITS.files} files`;
  if (code === 'FST_FIELDS_LIMIT') return `the multipart body has more than ${MULTIPART_LIMITS.fields} fields`;
  if (code === 'FST_PARTS_LIMIT') return 'the multipart body has too many parts';
  if (code === 'FST_PROTO_VIOLATION') return 'a multipart field is named __proto__ or constructor, which is not allowed';
  return 'the multipart/form-data body is malformed or cut short (check the boundary in Content-Type and the closing --boundary--)';
}

/**
 * A JSON field set to null is treated as absent: Java's and C#'s default serialisers, among
 * others, write every optional field, as null when unset, and such clients must work unchanged.
 * A required field sent as null is then refused as missing.
 */
function withoutNulls<T extends object>(fields: T): T {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null)) as T;
}

export interface ParsedBody {
  fields: Fields;
  files: Record<string, Buffer>;
  multipart: boolean;
}

/**
 * Reads a JSON or multipart body into one shape. Multipart files are capped at `maxFileBytes`
 * (+1 so that "exactly at the limit" and "over it" can be told apart); a doubled part is refused.
 */
export async function readBody(req: FastifyRequest, maxFileBytes: number): Promise<ParsedBody> {
  if (!req.isMultipart()) {
    const body = req.body;
    if (body === undefined || body === null) return { fields: {}, files: {}, multipart: false };
    if (typeof body === 'string') throw invalidParam('the body is plain text; send a JSON object with Content-Type: application/json');
    if (typeof body !== 'object' || Array.isArray(body)) throw invalidParam('the body must be a JSON object, not an array or a single value');
    return { fields: withoutNulls(body as Fields), files: {}, multipart: false };
  }
  const fields: Fields = {};
  const files: Record<string, Buffer> = {};
  try {
    for await (const part of req.parts({ limits: { fileSize: maxFileBytes + 1, ...MULTIPART_LIMITS } })) {
      if (part.fieldname in fields || part.fieldname in files) throw invalidParam(`multipart field ${part.fieldname} appears more than once`);
      if (part.type === 'file') {
        const buf = await part.toBuffer();
        if (buf.length > maxFileBytes || part.file.truncated) throw new FaceApiError('ImageTooLargeException', `${part.fieldname} is over ${maxFileBytes} bytes, the image limit`);
        files[part.fieldname] = buf;
      } else {
        // A cut value (e.g. a long pre-signed image URL) would silently become a different one.
        if (part.valueTruncated) throw invalidParam(`multipart field ${part.fieldname} is longer than 16 KB`);
        fields[part.fieldname] = part.value;
      }
    }
  } catch (e) {
    // busboy / @fastify/multipart reject malformed bodies (no or wrong boundary, unterminated
    // parts, too many parts) with plain Errors: the client's fault, not the server's.
    if (e instanceof FaceApiError || (e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE') throw e;
    throw new FaceApiError('InvalidParam', multipartProblem((e as { code?: string }).code), undefined, { cause: e });
  }
  return { fields, files, multipart: true };
}
