/**
 * Persistence ports of persons and face clustering (docs/persons.md), kept apart from `Store` so
 * that a store implementation adds them without the face store's contract changing. Like
 * `Store`, every write resolves only once it is durable.
 */
import type { Cursor, Page } from './store.js';

export interface PersonRecord {
  personId: string;
  name?: string;
  /** A JSON object, as the client gave it. */
  metadata?: Record<string, unknown>;
  createTime: Date;
  updateTime: Date;
  faceCount: number;
}

export interface NewPerson {
  personId: string;
  name?: string;
  metadata?: Record<string, unknown>;
}

/** `null` clears a field; an absent field stays as it is. */
export interface PersonChanges {
  name?: string | null;
  metadata?: Record<string, unknown> | null;
}

/** Why an association was refused as a whole (nothing was written). */
export type AssociateRefusal =
  | { reason: 'no-person' }
  | { reason: 'no-face'; faceId: string }
  | { reason: 'other-person'; faceId: string; personId: string }
  | { reason: 'quota' };

export interface PersonStore {
  /** Undefined if the group does not exist. */
  createPerson(appKey: string, groupId: string, person: NewPerson): Promise<PersonRecord | undefined>;
  getPerson(appKey: string, groupId: string, personId: string): Promise<PersonRecord | undefined>;
  /** Persons in creation order. */
  listPersons(appKey: string, groupId: string, limit: number, after?: Cursor): Promise<Page<PersonRecord>>;
  updatePerson(appKey: string, groupId: string, personId: string, changes: PersonChanges): Promise<PersonRecord | undefined>;
  /** Deletes the person (never its faces); the faceIds it had, or undefined if there was no such person. */
  deletePerson(appKey: string, groupId: string, personId: string): Promise<string[] | undefined>;
  /**
   * Associates faces of the group with the person, all or none, in one transaction. Faces already
   * with this person are fine; a face with another person, a face not in the group, or more than
   * `maxFaces` faces for the person refuse the whole call.
   */
  associateFaces(appKey: string, groupId: string, personId: string, faceIds: string[], maxFaces: number): Promise<{ ok: true; person: PersonRecord } | { ok: false; refusal: AssociateRefusal }>;
  /** Faces of the list that were with the person and no longer are. Undefined if there is no such person. */
  disassociateFaces(appKey: string, groupId: string, personId: string, faceIds: string[]): Promise<string[] | undefined>;
  /** The faceIds associated with the person (empty if none or no such person). */
  personFaceIds(appKey: string, groupId: string, personId: string): Promise<string[]>;
  /** faceId → personId for those of the given faces that belong to a person. */
  personsOfFaces(appKey: string, groupId: string, faceIds: string[]): Promise<Map<string, string>>;
}

export type ClusterJobState = 'queued' | 'running' | 'succeeded' | 'failed';

export interface ClusterJobRecord {
  jobId: string;
  appKey: string;
  groupId: string;
  state: ClusterJobState;
  percent: number;
  /** What the job was asked (thresholds, listed faces), kept so it can run again after a restart. */
  params: Record<string, unknown>;
  result?: unknown;
  error?: string;
  createTime: Date;
  updateTime: Date;
}

export interface ClusterJobs {
  createJob(job: { jobId: string; appKey: string; groupId: string; params: Record<string, unknown> }): Promise<ClusterJobRecord | undefined>;
  getJob(appKey: string, groupId: string, jobId: string): Promise<ClusterJobRecord | undefined>;
  updateJob(jobId: string, changes: { state?: ClusterJobState; percent?: number; result?: unknown; error?: string }): Promise<void>;
  /** Jobs queued or running: what a restart runs again. */
  unfinishedJobs(): Promise<ClusterJobRecord[]>;
}
