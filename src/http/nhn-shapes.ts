import { FaceApiError } from '../domain/errors.js';
import type { GroupInfo } from '../domain/types.js';
import type { CompareResult, RegisterResult } from '../domain/service.js';
import { success } from './envelope.js';

// What v1.0 and v2.0 answer alike. The two adapters share these and the envelope, never each other.

/** NHN writes times as `2020-11-04T12:36:24` with no zone; facerec uses UTC (docs/api-compatibility.md). */
export const nhnTime = (d: Date) => d.toISOString().slice(0, 19);

export const groupDetails = (g: GroupInfo) => ({ groupId: g.groupId, createTime: nhnTime(g.createTime), faceCount: g.faceCount });

export function registerData(r: RegisterResult) {
  return {
    addedFaceCount: r.added.length,
    addedFaces: r.added.map((a) => a.face),
    addedFaceDetails: r.added.map((a) => a.detail),
    notAddedFaceCount: r.notAdded.length,
    notAddedFaces: r.notAdded,
  };
}

/** +40070 when the group filled up part-way; -40070 when nothing could be added for that reason. */
export function registered<T>(r: { added: unknown[]; quotaHit: boolean }, data: T) {
  if (!r.quotaHit) return success(data);
  if (r.added.length === 0) throw new FaceApiError('ServiceQuotaExceededException', 'the group is full');
  return success(data, 'ServiceQuotaExceededPartialSuccessException');
}

export function compareData(r: CompareResult) {
  return {
    matchedFaceDetailCount: r.matched.length,
    matchedFaceDetails: r.matched,
    unmatchedFaceDetailCount: r.unmatched.length,
    unmatchedFaceDetails: r.unmatched,
    sourceFace: r.sourceFace,
  };
}

/** Only set keys that have a value: NHN omits absent optionals rather than sending null. */
/** NHN marks `nextToken` required in list answers: every page carries it, the last one as "". */
export const withToken = <T extends object>(data: T, nextToken: string | undefined) => ({ ...data, nextToken: nextToken ?? '' });
