import { FaceApiError, invalidParam } from './errors.js';

const GROUP_ID = /^[a-z0-9-]{1,255}$/;
const EXTERNAL_IMAGE_ID = /^[a-zA-Z0-9_.\-:]{1,255}$/;
const MAX_ID_LENGTH = 255;

/**
 * Why an id breaks its rule, in words: empty, too long, or which characters are not allowed
 * (the first few, each once; the id is the client's own, so showing its characters is safe).
 */
function idProblem(name: string, id: string, allowedChars: RegExp, allowedInWords: string): string {
  const rule = `${name} may use ${allowedInWords} only, 1 to ${MAX_ID_LENGTH} characters`;
  if (id.length === 0) return `${name} is empty; ${rule}`;
  if (id.length > MAX_ID_LENGTH) return `${name} is ${id.length} characters long; ${rule}`;
  const bad = [...new Set([...id].filter((c) => !allowedChars.test(c)))].slice(0, 5);
  const shown = bad.map((c) => (c === ' ' ? 'a space' : /^[\x21-\x7e]$/.test(c) ? `'${c}'` : `U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`));
  return `${name} contains ${shown.join(', ')}; ${rule}`;
}

const groupIdProblem = (id: unknown) =>
  typeof id === 'string' ? idProblem('groupId', id, /[a-z0-9-]/, "lower-case letters a-z, digits 0-9 and '-'") : id === undefined ? 'groupId is required' : 'groupId must be a string';

/** Group ids are NHN's `[a-z0-9-]{1,255}`; creating a bad one is -40010, naming one elsewhere is -40000. */
export function checkGroupIdForCreate(groupId: unknown): string {
  if (typeof groupId !== 'string' || !GROUP_ID.test(groupId)) throw new FaceApiError('InvalidGroupID', groupIdProblem(groupId));
  return groupId;
}

export function checkGroupId(groupId: string): string {
  if (!GROUP_ID.test(groupId)) throw invalidParam(groupIdProblem(groupId));
  return groupId;
}

export function checkExternalImageId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  if (!EXTERNAL_IMAGE_ID.test(id)) throw invalidParam(idProblem('externalImageId', id, /[a-zA-Z0-9_.\-:]/, "letters, digits, '_', '.', '-' and ':'"));
  return id;
}


export function checkIntRange(name: string, value: number | undefined, min: number, max: number): number {
  if (value === undefined) throw invalidParam(`${name} is required`);
  if (!Number.isInteger(value) || value < min || value > max) throw invalidParam(`${name} must be an integer from ${min} to ${max}; it is ${value}`);
  return value;
}
