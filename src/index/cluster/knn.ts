import { availableParallelism } from 'node:os';
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import type { NeighbourGraph, NeighbourSearch } from '../../domain/clustering.js';
import type { KnnInput, KnnMessage } from './knn-worker.js';

/** Exact search up to this many faces; an HNSW graph above (usearch's brute force is slow past a few thousand). */
export const EXACT_KNN_UP_TO = 2_000;

/**
 * The k nearest neighbours of every face, computed with usearch on a thread of its own
 * (knn-worker.ts), started on first use and ended when idle (docs/persons.md, "Clustering").
 */
export class UsearchNeighbours implements NeighbourSearch {
  private started?: Piscina<KnnInput, { neighbours: Int32Array; cosines: Float32Array }>;

  constructor(private readonly options: { threads?: number; exactUpTo?: number } = {}) {}

  private get pool() {
    if (this.started) return this.started;
    const here = fileURLToPath(import.meta.url);
    const fromSource = extname(here) === '.ts';
    this.started = new Piscina({
      // From TypeScript sources (npm start, tests) the thread needs the tsx loader too.
      ...(fromSource && !process.execArgv.some((a) => a.includes('tsx')) ? { execArgv: [...process.execArgv, '--import', import.meta.resolve('tsx')] } : {}),
      filename: new URL(`./knn-worker${extname(here)}`, import.meta.url).href,
      minThreads: 0,
      maxThreads: 1,
      // A job's vectors and graph are freed with the thread once the jobs are done.
      idleTimeout: 1000,
    });
    return this.started;
  }

  async neighbours(vectors: Float32Array, count: number, dimensions: number, k: number, onProgress?: (fraction: number) => void): Promise<NeighbourGraph> {
    const channel = new MessageChannel();
    channel.port1.on('message', (m: KnnMessage) => onProgress?.(m.fraction));
    try {
      const input: KnnInput = { vectors, count, dimensions, k, exactUpTo: this.options.exactUpTo ?? EXACT_KNN_UP_TO, threads: this.options.threads ?? availableParallelism(), port: channel.port2 };
      const r = await this.pool.run(input, { transferList: [channel.port2] });
      return { k, neighbours: r.neighbours, cosines: r.cosines };
    } finally {
      channel.port1.close();
    }
  }

  async close(): Promise<void> {
    await this.started?.destroy();
    this.started = undefined;
  }
}
