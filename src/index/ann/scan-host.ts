import type { Piscina } from 'piscina';
import { threadPool } from '../../thread-pool.js';
import type { WorkerVectorSource } from '../../store/worker-vectors.js';
import type { SearchHit } from '../face-search.js';
import type { FillProgress, ScanData, ScanOptions, ScanStats, ScanTask, SnapshotMeta } from './scan-worker.js';

/**
 * The server's handle on the scan thread (scan-worker.ts). One thread: its requests run in the
 * order they are sent, which is what keeps a search behind the adds that preceded it.
 */
export class ScanHost {
  /** Started on first use: a server whose groups all stay small never starts the thread. */
  private started?: Piscina<ScanTask, unknown>;

  /** `vectors`: where the thread reads candidates' vectors to rank them itself (`rank`). */
  constructor(private readonly vectors?: WorkerVectorSource) {}

  private get pool(): Piscina<ScanTask, unknown> {
    this.started ??= ScanHost.start({ vectors: this.vectors });
    return this.started;
  }

  private static start(workerData: ScanData): Piscina<ScanTask, unknown> {
    return threadPool<ScanTask, unknown>(import.meta.url, 'scan-worker', {
      workerData,
      minThreads: 1,
      maxThreads: 1,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
      // By default piscina puts a queued task it cannot hand over yet at the back of its queue,
      // so requests queued behind a busy thread run out of order (a search before the removal
      // sent ahead of it) and some wait seconds under load. This keeps the queue first in, first out.
      stricterFIFO: true,
    });
  }

  /** Starts the thread now if it is not running (it takes a few hundred milliseconds), ahead of its first request. */
  start(): void {
    void this.pool;
  }

  create(group: string, options: ScanOptions): Promise<void> {
    return this.run({ op: 'create', group, options });
  }

  /** `vectors` holds the vectors of `keys` back to back. */
  add(group: string, keys: Float64Array, vectors: Float32Array): Promise<void> {
    return this.run({ op: 'add', group, keys, vectors });
  }

  remove(group: string, keys: number[]): Promise<void> {
    return this.run({ op: 'remove', group, keys: Float64Array.from(keys) });
  }

  search(group: string, query: Float32Array, k: number): Promise<{ keys: number[]; distances: number[] }> {
    return this.run({ op: 'search', group, query, k });
  }

  /**
   * The best `k` faces by exact cosine at or above `minScore`, best first, among the `candidates`
   * nearest codes, read and scored in the thread. Needs the `vectors` it was made with.
   */
  rank(group: string, ref: { appKey: string; groupId: string }, query: Float32Array, candidates: number, k: number, minScore: number, exclude?: string): Promise<SearchHit[]> {
    return this.run({ op: 'rank', group, appKey: ref.appKey, groupId: ref.groupId, query, candidates, k, minScore, ...(exclude !== undefined ? { exclude } : {}) });
  }

  /** Reads the 8-bit vectors of up to `limit` of the group's faces that lack one, from the store, in the thread. */
  fill(group: string, ref: { appKey: string; groupId: string }, limit: number): Promise<FillProgress> {
    return this.run({ op: 'fill', group, appKey: ref.appKey, groupId: ref.groupId, limit });
  }

  /** The group's codes and `meta` as a snapshot file's bytes, sealed with `key` by the thread and handed over. */
  save(group: string, meta: SnapshotMeta, key: Uint8Array): Promise<Uint8Array> {
    return this.run({ op: 'save', group, meta, key });
  }

  /** Replaces the group's codes by those of the snapshot file at `path`, read and opened with `key` by the thread. */
  load(group: string, path: string, key: Uint8Array): Promise<SnapshotMeta> {
    return this.run({ op: 'load', group, path, key });
  }

  /**
   * Makes the group's codes hold exactly the faces the store holds when the thread gets to it:
   * removes the others and answers the keys the codes lack, to be added with their vectors.
   */
  reconcile(group: string, ref: { appKey: string; groupId: string }): Promise<{ missing: number[]; removed: number }> {
    return this.run({ op: 'reconcile', group, appKey: ref.appKey, groupId: ref.groupId });
  }

  drop(group: string): Promise<void> {
    return this.run({ op: 'drop', group });
  }

  stats(group: string): Promise<ScanStats> {
    return this.run({ op: 'stats', group });
  }

  async close(): Promise<void> {
    await this.started?.destroy();
  }

  private run<T>(task: ScanTask, transferList?: ArrayBuffer[]): Promise<T> {
    return this.pool.run(task, transferList ? { transferList } : {}) as Promise<T>;
  }
}
