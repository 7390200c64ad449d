import type { GroupInfo } from '../domain/types.js';
import type { CompareResult, RegisterResult } from '../domain/service.js';

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
export const withToken = <T extends object>(data: T, nextToken: string | undefined) => (nextToken ? { ...data, nextToken } : data);
