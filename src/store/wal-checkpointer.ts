import type { Piscina } from 'piscina';
import { threadPool } from '../thread-pool.js';
import type { CheckpointResult, CheckpointTask } from './wal-checkpoint-worker.js';

/**
 * Checkpoints a SQLite file's WAL from a thread of its own, so that the server's connections
 * never have to. SQLite otherwise checkpoints on the connection whose commit fills the WAL past
 * wal_autocheckpoint (sqlite-connection.ts): copying and syncing those pages took that request
 * 6–8 ms on the event loop, an audit entry's write made a search wait for it (docs/scale.md).
 * A checkpoint runs every `intervalMs`, never two at once.
 */
export class WalCheckpointer {
  readonly #pool: Piscina<CheckpointTask, CheckpointResult>;
  readonly #timer: NodeJS.Timeout;
  #running?: Promise<void>;

  constructor(
    private readonly task: CheckpointTask,
    intervalMs = 1000,
    private readonly onError: (err: unknown) => void = () => {},
  ) {
    this.#pool = threadPool<CheckpointTask, CheckpointResult>(import.meta.url, 'wal-checkpoint-worker', {
      // Started by the first checkpoint: a runtime closed within a second never starts it.
      minThreads: 0,
      maxThreads: 1,
      idleTimeout: Infinity,
    });
    this.#timer = setInterval(() => void this.checkpoint(), intervalMs).unref();
  }

  /** Runs a checkpoint now unless one is running; resolves when that one is done. */
  checkpoint(): Promise<void> {
    this.#running ??= this.#pool.run(this.task).then(() => undefined, this.onError).finally(() => { this.#running = undefined; });
    return this.#running;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.#running;
    await this.#pool.destroy();
  }
}
