import { randomUUID } from 'node:crypto';
import { fromSimilarity } from '../engine/similarity.js';
import type { ClusterJobRecord, ClusterJobs, PersonRecord } from '../store/person-store.js';
import type { Store } from '../store/store.js';
import type { FaceClusterer } from './clustering.js';
import { FaceApiError, invalidParam } from './errors.js';
import type { PersonService } from './persons.js';
import { checkIntRange } from './validation.js';

/**
 * Documented defaults (docs/persons.md), on the 0–100 similarity scale of search: the server's
 * match threshold, and no attach step (`attachThreshold` = `threshold`) unless asked for.
 */
export const CLUSTER_DEFAULTS = { threshold: 80 };

/** Faces clustered per job at most: the group quota's default. */
const MAX_JOB_FACES = 100_000;

/** Faces read from the store per step: decrypting one costs 35–80 µs, so a step stays near 10 ms. */
const READ_BATCH = 200;

interface JobParams {
  threshold: number;
  attachThreshold: number;
  faceIds?: string[];
}

interface JobResult {
  faceCount: number;
  clusters: { clusterId: string; faceCount: number; representativeFaceId: string; faceIds: string[] }[];
  unclusteredFaceIds: string[];
}

type Logger = { warn(obj: object, msg: string): void };

/**
 * Clustering a group's faces into identities as a background job (docs/persons.md). Jobs run one
 * at a time, in the order started; the job row records its parameters, so a job a restart
 * interrupted runs again from the start (the result depends on the faces and parameters).
 */
export class ClusterService {
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly store: Store,
    private readonly jobs: ClusterJobs,
    private readonly persons: PersonService,
    private readonly clusterer: FaceClusterer,
    private readonly dimensions: number,
    private readonly log?: Logger,
  ) {}

  async start(appKey: string, groupId: string, body: { faceIds?: unknown; threshold?: number; attachThreshold?: number }): Promise<ClusterJobRecord> {
    await this.persons.requireGroup(appKey, groupId);
    const threshold = checkIntRange('threshold', body.threshold ?? CLUSTER_DEFAULTS.threshold, 1, 100);
    const attachThreshold = checkIntRange('attachThreshold', body.attachThreshold ?? threshold, 1, 100);
    if (attachThreshold > threshold) throw invalidParam(`attachThreshold (${attachThreshold}) must not be above threshold (${threshold})`);
    let faceIds: string[] | undefined;
    if (body.faceIds !== undefined) {
      if (!Array.isArray(body.faceIds) || body.faceIds.length === 0 || body.faceIds.some((f) => typeof f !== 'string')) throw invalidParam('faceIds must be a non-empty array of faceIds');
      if (body.faceIds.length > MAX_JOB_FACES) throw invalidParam(`faceIds may hold at most ${MAX_JOB_FACES} faceIds`);
      faceIds = [...new Set(body.faceIds as string[])];
    }
    const params: JobParams = { threshold, attachThreshold, ...(faceIds ? { faceIds } : {}) };
    const job = await this.jobs.createJob({ jobId: randomUUID(), appKey, groupId, params: params as unknown as Record<string, unknown> });
    if (!job) throw new FaceApiError('NotFoundGroupError', `group ${groupId} does not exist`);
    this.enqueue(job);
    return job;
  }

  async get(appKey: string, groupId: string, jobId: string): Promise<ClusterJobRecord> {
    await this.persons.requireGroup(appKey, groupId);
    const job = /^[0-9a-f-]{36}$/.test(jobId) ? await this.jobs.getJob(appKey, groupId, jobId) : undefined;
    if (!job) throw new FaceApiError('NotFoundJobError', `clustering job ${jobId.slice(0, 80)} is not in this group`);
    return job;
  }

  /** The answer's shape: parameters and, once done, the result, flattened into one object. */
  shown(job: ClusterJobRecord) {
    const p = job.params as unknown as JobParams;
    const r = job.result as JobResult | undefined;
    const time = (d: Date) => d.toISOString().slice(0, 19);
    return {
      jobId: job.jobId,
      groupId: job.groupId,
      state: job.state,
      percent: job.percent,
      createTime: time(job.createTime),
      updateTime: time(job.updateTime),
      threshold: p.threshold,
      attachThreshold: p.attachThreshold,
      ...(r ? { faceCount: r.faceCount, clusterCount: r.clusters.length, clusters: r.clusters, unclusteredFaceIds: r.unclusteredFaceIds } : {}),
      ...(job.error !== undefined ? { error: job.error } : {}),
    };
  }

  /**
   * One call from a cluster to a person: a new person with the cluster's faces that are still in
   * the group. A face that meanwhile joined another person refuses the call (-40090).
   */
  async toPerson(appKey: string, groupId: string, jobId: string, clusterId: string, body: { name?: unknown; metadata?: unknown }): Promise<PersonRecord> {
    const job = await this.get(appKey, groupId, jobId);
    if (job.state !== 'succeeded') throw invalidParam(`clustering job ${jobId} is ${job.state}; a cluster becomes a person once the job succeeded`);
    const cluster = (job.result as JobResult).clusters.find((c) => c.clusterId === clusterId);
    if (!cluster) throw invalidParam(`job ${jobId} has no cluster ${clusterId.slice(0, 20)}`);
    const present = new Set((await this.store.getFaces(appKey, groupId, cluster.faceIds)).map((f) => f.faceId));
    const faceIds = cluster.faceIds.filter((f) => present.has(f));
    if (faceIds.length === 0) throw invalidParam(`every face of cluster ${clusterId} was deleted since the job ran`);
    const person = await this.persons.createPerson(appKey, groupId, body);
    try {
      return await this.persons.associateFaces(appKey, groupId, person.personId, faceIds);
    } catch (err) {
      await this.persons.deletePerson(appKey, groupId, person.personId).catch(() => {});
      throw err;
    }
  }

  /** Runs again the jobs a stop interrupted (call once at start-up). */
  async resume(): Promise<void> {
    for (const job of await this.jobs.unfinishedJobs()) this.enqueue(job);
  }

  /** Waits for the jobs queued so far (tests, shutdown); no new job starts after `close`. */
  async idle(): Promise<void> {
    await this.queue;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.queue;
    await this.clusterer.close?.();
  }

  private enqueue(job: ClusterJobRecord): void {
    this.queue = this.queue.then(() => (this.closed ? undefined : this.run(job)));
  }

  /**
   * The group's faces (or the wanted ones) and their vectors, one row each, read in batches with a
   * turn of the event loop between them: a 100,000-face group read and decrypted in one go held the
   * server for over a second. The rows go straight into one array sized by the group's count.
   */
  private async readFaces(appKey: string, groupId: string, expected: number, wanted?: Set<string>): Promise<{ faces: string[]; vectors: Float32Array }> {
    const d = this.dimensions;
    const faces: string[] = [];
    let vectors = new Float32Array(Math.min(expected, wanted?.size ?? expected) * d);
    for (let after = 0; ; ) {
      const batch = await this.store.vectorBatch(appKey, groupId, after, READ_BATCH);
      for (const f of batch) {
        if (wanted && !wanted.has(f.faceId)) continue;
        if ((faces.length + 1) * d > vectors.length) {
          // Faces registered since the count was read.
          const grown = new Float32Array(Math.max(vectors.length * 2, (faces.length + 1) * d));
          grown.set(vectors);
          vectors = grown;
        }
        vectors.set(f.vector, faces.length * d);
        faces.push(f.faceId);
      }
      if (batch.length < READ_BATCH) break;
      after = batch[batch.length - 1].key;
      await new Promise((resolve) => setImmediate(resolve));
    }
    // The clusterer may take the array's buffer to another thread whole, so it must be exactly the rows.
    return { faces, vectors: vectors.length === faces.length * d ? vectors : vectors.slice(0, faces.length * d) };
  }

  private async run(job: ClusterJobRecord): Promise<void> {
    const params = job.params as unknown as JobParams;
    try {
      await this.jobs.updateJob(job.jobId, { state: 'running', percent: 0 });
      const group = await this.store.getGroup(job.appKey, job.groupId);
      if (!group) return; // deleted meanwhile: the job went with it
      const { faces, vectors } = await this.readFaces(job.appKey, job.groupId, group.faceCount, params.faceIds ? new Set(params.faceIds) : undefined);
      await this.jobs.updateJob(job.jobId, { percent: 10 });
      let lastPercent = 10;
      // Progress is written in order and before the final state: a progress message may arrive
      // after the result (another channel), and must not put a finished job back at 90 %.
      let progressWrites = Promise.resolve();
      let finished = false;
      const settings = { linkCosine: fromSimilarity(params.threshold), attachCosine: fromSimilarity(params.attachThreshold) };
      const c = await this.clusterer.cluster(vectors, faces.length, this.dimensions, settings, (fraction) => {
        const percent = 10 + Math.floor(fraction * 89);
        if (finished || percent <= lastPercent) return;
        lastPercent = percent;
        progressWrites = progressWrites.then(() => this.jobs.updateJob(job.jobId, { percent })).catch(() => {});
      });
      finished = true;
      await progressWrites;
      const result: JobResult = {
        faceCount: faces.length,
        clusters: c.clusters.map((members, i) => ({ clusterId: String(i), faceCount: members.length, representativeFaceId: faces[members[0]], faceIds: members.map((m) => faces[m]) })),
        unclusteredFaceIds: c.unclustered.map((m) => faces[m]),
      };
      await this.jobs.updateJob(job.jobId, { state: 'succeeded', percent: 100, result });
    } catch (err) {
      this.log?.warn({ err, jobId: job.jobId }, 'clustering job failed');
      await this.jobs.updateJob(job.jobId, { state: 'failed', error: 'the clustering job failed on the server; start it again' }).catch(() => {});
    }
  }
}
