import { availableParallelism } from 'node:os';
import { MessageChannel } from 'node:worker_threads';
import type { Piscina } from 'piscina';
import { threadPool } from '../../thread-pool.js';
import type { ClusterSettings, Clustering, FaceClusterer } from '../../domain/clustering.js';
import type { ClusterInput, ClusterMessage } from './cluster-worker.js';

/** Exact neighbour search up to this many faces; an HNSW graph above (usearch's brute force is slow past a few thousand). */
export const EXACT_KNN_UP_TO = 2_000;

/** Neighbours looked at per face: more than the photos one person has in most albums' clusters. */
export const NEIGHBOURS_PER_FACE = 16;

/**
 * Clustering on a thread of its own (cluster-worker.ts): usearch for the neighbours, average
 * linkage over them. Started on first use and ended when idle (docs/persons.md, "Clustering").
 */
export class UsearchClusterer implements FaceClusterer {
  private started?: Piscina<ClusterInput, Clustering>;

  constructor(private readonly options: { threads?: number; exactUpTo?: number } = {}) {}

  private get pool() {
    if (this.started) return this.started;
    this.started = threadPool<ClusterInput, Clustering>(import.meta.url, 'cluster-worker', {
      minThreads: 0,
      maxThreads: 1,
      // A job's vectors and graph are freed with the thread once the jobs are done.
      idleTimeout: 1000,
    });
    return this.started;
  }

  async cluster(vectors: Float32Array, count: number, dimensions: number, settings: ClusterSettings, onProgress?: (fraction: number) => void): Promise<Clustering> {
    const channel = new MessageChannel();
    channel.port1.on('message', (m: ClusterMessage) => onProgress?.(m.fraction));
    try {
      const input: ClusterInput = {
        vectors,
        count,
        dimensions,
        settings,
        k: NEIGHBOURS_PER_FACE,
        exactUpTo: this.options.exactUpTo ?? EXACT_KNN_UP_TO,
        threads: this.options.threads ?? availableParallelism(),
        port: channel.port2,
      };
      // A vector array that owns its whole buffer moves to the thread instead of being copied
      // (205 MB at 100,000 faces: the copy is made on the event loop).
      const ownsBuffer = vectors.byteOffset === 0 && vectors.byteLength === vectors.buffer.byteLength && vectors.buffer instanceof ArrayBuffer;
      return await this.pool.run(input, { transferList: ownsBuffer ? [channel.port2, vectors.buffer as ArrayBuffer] : [channel.port2] });
    } finally {
      channel.port1.close();
    }
  }

  async close(): Promise<void> {
    await this.started?.destroy();
    this.started = undefined;
  }
}
