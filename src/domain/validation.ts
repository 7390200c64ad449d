import { FaceApiError, invalidParam } from './errors.js';

const GROUP_ID = /^[a-z0-9-]{1,255}$/;
const EXTERNAL_IMAGE_ID = /^[a-zA-Z0-9_.\-:]{1,255}$/;

/** Group ids are NHN's `[a-z0-9-]{1,255}`; creating a bad one is -40010, naming one elsewhere is -40000. */
export function checkGroupIdForCreate(groupId: unknown): string {
  if (typeof groupId !== 'string' || !GROUP_ID.test(groupId)) {
    throw new FaceApiError('InvalidGroupID', 'groupId must match [a-z0-9-] and be 1-255 characters');
  }
  return groupId;
}

export function checkGroupId(groupId: string): string {
  if (!GROUP_ID.test(groupId)) throw invalidParam('groupId must match [a-z0-9-] and be 1-255 characters');
  return groupId;
}

export function checkExternalImageId(id: string | undefined): string | undefined {
  if (id === undefined) return undefined;
  if (!EXTERNAL_IMAGE_ID.test(id)) throw invalidParam('externalImageId must match [a-zA-Z0-9_.\\-:] and be 1-255 characters');
  return id;
}


export function checkIntRange(name: string, value: number | undefined, min: number, max: number): number {
  if (value === undefined) throw invalidParam(`${name} is required`);
  if (!Number.isInteger(value) || value < min || value > max) throw invalidParam(`${name} must be an integer from ${min} to ${max}`);
  return value;
}
