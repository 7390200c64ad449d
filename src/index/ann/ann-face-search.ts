import type { FaceKey, KeyedVector, Store } from '../../store/store.js';
import type { WorkerVectorSource } from '../../store/worker-vectors.js';
import type { FaceSearch, GroupRef, SearchHit } from '../face-search.js';
import { VECTOR_BYTES_PER_FACE } from './resident-group.js';
import { ScanHost } from './scan-host.js';
import type { ScanOptions, SnapshotMeta } from './scan-worker.js';
import type { SnapshotFiles } from './snapshot-files.js';

export interface AnnSettings {
  /** Groups with fewer faces are searched by the exact scan (measured crossover: docs/scale.md). */
  exactBelow: number;
  /** Candidates proposed by the binary scan per result wanted, before exact re-ranking. */
  candidatesPerResult: number;
  /** Fewest candidates fetched, however few results are wanted. */
  minCandidates: number;
  /**
   * Faces read from the store and added to a group's codes per step of a build. Decrypting a
   * vector costs 35–80 µs here, so 200 keep each turn of the event loop near 10 ms.
   */
  buildBatch: number;
  /**
   * Faces whose 8-bit vectors one step of filling in a loaded group reads from the store
   * (resident-group.ts). A decryption costs about 20 µs here, so a step holds searches for about 5 ms.
   */
  fillBatch: number;
  /** Pause between those steps, which leaves the scan thread to searches. */
  fillPauseMs: number;
  /** Resident codes and vectors may hold about this many bytes; past it the least recently searched groups' are evicted. */
  memoryBudgetBytes: number;
  /** How often changed groups are considered for writing to their snapshots. */
  snapshotIntervalMs: number;
  /**
   * A changed group is written only once no search has come in for this long: the scan thread
   * does one thing at a time, so searches would wait behind the write.
   */
  snapshotQuietMs: number;
  /** ...unless its oldest unsaved change is this old: then it is written even while searches run. */
  snapshotMaxDelayMs: number;
  codes: ScanOptions;
}

export const DEFAULT_ANN_SETTINGS: AnnSettings = {
  // Measured (docs/scale.md, "Small groups"): see there for the crossover.
  exactBelow: 10_000,
  candidatesPerResult: 2,
  minCandidates: 32,
  buildBatch: 200,
  fillBatch: 256,
  fillPauseMs: 2,
  memoryBudgetBytes: 2 * 1024 ** 3,
  snapshotIntervalMs: 30_000,
  snapshotQuietMs: 2_000,
  snapshotMaxDelayMs: 10 * 60_000,
  codes: { dimensions: 512 },
};

/** Where the codes are built from, and how the scan thread reads candidates' vectors itself. */
type VectorSource = Pick<Store, 'vectorBatch' | 'vectorsByKeys'> & { workerVectorSource(): WorkerVectorSource };

export interface AnnLogger {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * A group's codes go through three states. `opening`: the worker holds none yet, so writes
 * are not forwarded (whatever the load or build then reads from the store includes them).
 * `filling`: the codes exist and every write is forwarded, in order. `ready`: complete, searched.
 */
interface AnnGroup {
  name: string;
  ref: GroupRef;
  state: 'opening' | 'filling' | 'ready';
  /** Settles when the codes are ready (or failed). */
  opened: Promise<void>;
  /** Writes forwarded since the last snapshot was queued. */
  dirty: number;
  /** When the oldest of those writes was made (Date.now()). */
  dirtySince?: number;
  faces: number;
  lastUsed: number;
  /** Whether a snapshot existed when the group was opened (searches then wait for its load). */
  fromSnapshot: boolean;
  /** The snapshot being written, if any. */
  saving?: Promise<void>;
  /** Every face's 8-bit vector is held (a group loaded from its snapshot fills them in after it is ready). */
  filled: boolean;
}

/**
 * Large groups searched by a scan of binary codes in a worker thread (scan-worker.ts), small ones
 * by the exact scan it is tested against. The codes only propose candidates: the scan thread
 * ranks them on 8-bit copies of their vectors it holds, reads the few closest to the best from
 * the store through a connection of its own and scores them exactly (resident-group.ts), so the
 * first result and its score are exact, the others' scores within 2e-3, and a face deleted from
 * the store is never returned. Codes persist in encrypted
 * snapshots (snapshot-files.ts) and are reconciled with the store when loaded, so a crash at any
 * moment costs at most the writes since the last snapshot, which the reconciliation restores
 * from the store.
 */
export class AnnFaceSearch implements FaceSearch {
  private readonly groups = new Map<string, AnnGroup>();
  /** Faces and groups removed so far: a search's records are current if none was meanwhile. */
  private removals = 0;
  private readonly host: ScanHost;
  /** Groups being dropped in the worker; closing waits for them. */
  private readonly drops = new Set<Promise<void>>();
  private readonly timer: NodeJS.Timeout;
  private clock = 0;
  /** When a search last came in (Date.now()): searches coming in mean a write now would keep them waiting. */
  private lastSearch = 0;
  private closing = false;

  constructor(
    private readonly store: VectorSource,
    private readonly exact: FaceSearch,
    private readonly snapshots: SnapshotFiles | undefined,
    private readonly settings: AnnSettings = DEFAULT_ANN_SETTINGS,
    private readonly log?: AnnLogger,
  ) {
    this.host = new ScanHost(store.workerVectorSource());
    this.timer = setInterval(() => void this.saveDue(), settings.snapshotIntervalMs).unref();
  }

  async search(group: GroupRef, query: Float32Array, k: number, minScore: number, exclude?: string): Promise<SearchHit[]> {
    this.lastSearch = Date.now();
    let g = this.current(group);
    if (!g && group.faceCount >= this.settings.exactBelow) g = this.open(group);
    // A snapshot loads in well under a second per million faces: worth waiting for. A build
    // reads and decrypts every vector (about a minute per million), so meanwhile the exact scan answers.
    if (g && g.state !== 'ready' && g.fromSnapshot) await g.opened;
    // A group without usable codes yet is answered exactly, so a build never costs an answer.
    if (!g || g.state !== 'ready') return this.exact.search(group, query, k, minScore, exclude);

    g.lastUsed = ++this.clock;
    const wanted = Math.max(this.settings.minCandidates, (k + (exclude ? 1 : 0)) * this.settings.candidatesPerResult);
    // The candidates are ranked, and the few read from the store decrypted, in the scan thread: on
    // the event loop, 30-odd decryptions a search were half its time and, through the clean-up
    // of their cipher objects, brought minor GC pauses of 10–17 ms (docs/scale.md).
    const removals = this.removals;
    const hits = await this.host.rank(g.name, group, query, wanted, k, minScore, exclude);
    // The scan thread's answers arrive as messages, and Node drains a port's messages (and the
    // promise reactions each one starts) in one go: searches whose continuation sent the next
    // request, answered quickly, kept the event loop in that drain for up to 280 ms (100,000
    // faces, 8 searches in flight), with /health and every timer waiting. Continuing in the check
    // phase lets the drain end; a lone search loses a few microseconds.
    await new Promise((resolve) => setImmediate(resolve));
    // The thread read the hits' records with their ids; a deletion that reached this index since
    // the search was sent may have committed after that read, so the caller then reads them again.
    return this.removals === removals ? hits : hits.map(({ faceId, score }) => ({ faceId, score }));
  }

  /**
   * Starts the scan thread now if there are snapshots (so large groups), instead of at the first
   * search of one: a server's first answer after a restart then does not wait for it.
   */
  warm(): void {
    if (this.snapshots?.any()) this.host.start();
  }

  /** Whether searches of the group go through its codes (false while the exact scan answers). */
  isIndexReady(group: GroupRef): boolean {
    return this.current(group)?.state === 'ready';
  }

  /** Whether every face's 8-bit vector is held, so that searches read from the store only the few candidates closest to the best. */
  isFilled(group: GroupRef): boolean {
    return this.current(group)?.filled ?? false;
  }

  added(group: GroupRef, faces: KeyedVector[]): void {
    this.exact.added(group, faces);
    const g = this.current(group);
    if (!g || g.state === 'opening' || faces.length === 0) return;
    markDirty(g, faces.length);
    g.faces += faces.length;
    this.quietly(this.host.add(g.name, Float64Array.from(faces, (f) => f.key), packVectors(faces, this.settings.codes.dimensions)), g);
  }

  removed(group: GroupRef, face: { key: FaceKey; faceId: string }): void {
    this.removals++;
    this.exact.removed(group, face);
    const g = this.current(group);
    if (!g || g.state === 'opening') return;
    markDirty(g, 1);
    g.faces = Math.max(0, g.faces - 1);
    this.quietly(this.host.remove(g.name, [face.key]), g);
  }

  dropped(group: { appKey: string; groupId: string }): void {
    this.removals++;
    this.exact.dropped(group);
    const name = groupName(group);
    this.forget(name);
    if (this.snapshots) this.quietly(this.snapshots.remove(name));
  }

  /** Writes every changed group's codes to its snapshot, then stops the worker. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.closing = true;
    // A build in flight could take minutes, longer than a shutdown may: it is abandoned (it stops
    // after its current step; the next start builds again, answering exactly meanwhile).
    const opening = [...this.groups.values()].filter((g) => g.state !== 'ready');
    for (const g of opening) this.forget(g.name);
    await Promise.allSettled(opening.map((g) => g.opened));
    await this.saveChanged();
    await Promise.allSettled([...this.groups.values()].map((g) => g.saving));
    await Promise.allSettled([...this.drops]);
    await this.host.close();
    await this.exact.close();
  }

  /**
   * Deletes every snapshot that belongs to none of `groups` (the groups the store holds): what an
   * app deleted while no server ran, or a crash between a delete and its snapshot's removal, left.
   */
  async removeOrphanSnapshots(groups: { appKey: string; groupId: string }[]): Promise<number> {
    return this.snapshots ? this.snapshots.removeAllBut(groups.map(groupName)) : 0;
  }

  /**
   * Writes the changed groups that are due: all of them once searches have paused, and any
   * whose oldest unsaved change has waited too long even if they have not.
   */
  async saveDue(): Promise<void> {
    for (const g of [...this.groups.values()]) {
      if (g.state !== 'ready' || this.groups.get(g.name) !== g || g.saving || g.dirty === 0) continue;
      const now = Date.now();
      const quiet = now - this.lastSearch >= this.settings.snapshotQuietMs;
      if (quiet || now - (g.dirtySince ?? now) >= this.settings.snapshotMaxDelayMs) await this.save(g);
    }
  }

  /** Resolves when every ready group's snapshot holds every change made before the call. */
  async saveChanged(): Promise<void> {
    for (const g of [...this.groups.values()]) {
      if (g.state !== 'ready' || this.groups.get(g.name) !== g) continue;
      while (g.saving) await g.saving;
      if (g.dirty > 0) await this.save(g);
    }
  }

  // ── internals ──────────────────────────────────────────────────────────────

  /** The group's entry if it belongs to this incarnation of the group; a stale one is forgotten. */
  private current(group: GroupRef): AnnGroup | undefined {
    const name = groupName(group);
    const g = this.groups.get(name);
    if (g && g.ref.generation !== group.generation) {
      this.forget(name);
      if (this.snapshots) this.quietly(this.snapshots.remove(name));
      return undefined;
    }
    return g;
  }

  private forget(name: string): void {
    if (!this.groups.delete(name)) return;
    const dropping = this.host.drop(name).finally(() => this.drops.delete(dropping));
    this.drops.add(dropping);
    this.quietly(dropping);
  }

  private open(group: GroupRef): AnnGroup {
    const name = groupName(group);
    const g: AnnGroup = {
      name, ref: group, state: 'opening', opened: Promise.resolve(), dirty: 0, faces: 0, lastUsed: ++this.clock,
      fromSnapshot: this.snapshots?.exists(name) ?? false, filled: false,
    };
    this.groups.set(name, g);
    g.opened = (async () => {
      const loaded = await this.loadSnapshot(g);
      if (this.groups.get(name) !== g) return;
      if (!loaded) await this.build(g);
      if (this.groups.get(name) !== g) return;
      g.state = 'ready';
      this.exact.dropped(group);
      void this.fill(g);
      await this.evictBeyondBudget(g);
      // Its first snapshot is written by the timer, like any change (saveDue).
    })().catch((error: unknown) => {
      // The group falls back to the exact scan; the next search tries again.
      this.log?.warn({ err: error }, "vector index: opening a group's codes failed; searching it exactly");
      if (this.groups.get(name) === g) this.forget(name);
    });
    return g;
  }

  /** Loads the snapshot and brings it up to date with the store. False if there is none usable. */
  private async loadSnapshot(g: AnnGroup): Promise<boolean> {
    if (!this.snapshots) return false;
    const snapshots = this.snapshots;
    const started = Date.now();
    let meta: SnapshotMeta | undefined;
    try {
      if (!snapshots.exists(g.name)) return false;
      // Read by the scan thread too: 72 MB a million faces allocated here cost the event loop a
      // full collection (its longest stall during a load, 30–100 ms).
      meta = await this.host.load(g.name, snapshots.pathOf(g.name), snapshots.sealingKey);
    } catch (error) {
      this.log?.warn({ err: error }, 'vector index: a snapshot could not be read; rebuilding the codes from the store');
      await this.host.drop(g.name);
      await snapshots.remove(g.name);
      return false;
    }
    // Abandoned meanwhile (dropped, or the server is closing): the caller sees that and stops.
    if (this.groups.get(g.name) !== g) return true;
    if (!meta || meta.generation !== g.ref.generation || meta.format !== 2 || meta.options.dimensions !== this.settings.codes.dimensions) {
      await this.host.drop(g.name);
      await snapshots.remove(g.name);
      return false;
    }
    // Writes are forwarded from here on, after the reconcile: the scan thread reads the store's
    // keys when it gets to it, so a write it misses reaches it afterwards, and one forwarded too
    // soon is one it has read.
    g.state = 'filling';
    const { missing, removed } = await this.host.reconcile(g.name, g.ref);
    for (let i = 0; i < missing.length; i += this.settings.buildBatch) {
      const batch = await this.store.vectorsByKeys(g.ref.appKey, g.ref.groupId, missing.slice(i, i + this.settings.buildBatch));
      await this.host.add(g.name, Float64Array.from(batch, (f) => f.key), packVectors(batch, this.settings.codes.dimensions));
    }
    markDirty(g, missing.length + removed);
    g.faces = (await this.host.stats(g.name)).size;
    this.log?.info({ faces: g.faces, added: missing.length, removed, ms: Date.now() - started }, 'vector index: group codes loaded');
    return true;
  }

  /**
   * Reads the group from the store in key order into new codes, one batch per turn of the
   * event loop. A face registered meanwhile may be read by the build and told by `added`; the
   * worker adds a key once.
   */
  private async build(g: AnnGroup): Promise<void> {
    const started = Date.now();
    await this.host.create(g.name, this.settings.codes);
    g.state = 'filling';
    let after = 0;
    for (;;) {
      if (this.groups.get(g.name) !== g) return;
      const batch = await this.store.vectorBatch(g.ref.appKey, g.ref.groupId, after, this.settings.buildBatch);
      if (batch.length === 0) break;
      // Sent in the same turn as the read, so a removal told after the read reaches the worker after this add.
      const sent = this.host.add(g.name, Float64Array.from(batch, (f) => f.key), packVectors(batch, this.settings.codes.dimensions));
      after = batch[batch.length - 1].key;
      markDirty(g, batch.length);
      await sent;
    }
    g.faces = (await this.host.stats(g.name)).size;
    this.log?.info({ faces: g.faces, ms: Date.now() - started }, 'vector index: group codes built');
  }

  /**
   * Fills in the 8-bit vectors of a ready group a step at a time, pausing between steps so that
   * searches queued behind a step wait for one step only. A group built from the store has them
   * all already: its one step finds none missing.
   */
  private async fill(g: AnnGroup): Promise<void> {
    const started = Date.now();
    let filled = 0;
    try {
      for (;;) {
        if (this.closing || this.groups.get(g.name) !== g) return;
        const step = await this.host.fill(g.name, g.ref, this.settings.fillBatch);
        filled += step.filled;
        if (step.done) break;
        await new Promise((resolve) => setTimeout(resolve, this.settings.fillPauseMs));
      }
    } catch (error) {
      // Searches go on, reading the missing vectors from the store; the group's next load tries again.
      if (!this.closing && this.groups.get(g.name) === g) this.log?.warn({ err: error }, 'vector index: filling in vectors failed');
      return;
    }
    g.filled = true;
    if (filled > 0) this.log?.info({ faces: filled, ms: Date.now() - started }, 'vector index: group vectors filled in');
  }

  private async save(g: AnnGroup): Promise<void> {
    if (!this.snapshots) return;
    while (g.saving) await g.saving;
    if (g.dirty === 0 || this.groups.get(g.name) !== g) return;
    const snapshots = this.snapshots;
    const meta: SnapshotMeta = { format: 2, generation: g.ref.generation, options: this.settings.codes };
    // Writes after this point are not in this snapshot: they count towards the next one.
    const changes = g.dirty;
    const since = g.dirtySince;
    g.dirty = 0;
    g.dirtySince = undefined;
    g.saving = (async () => {
      try {
        await snapshots.write(g.name, await this.host.save(g.name, meta, snapshots.sealingKey));
      } catch (error) {
        g.dirty += changes;
        g.dirtySince = Math.min(since ?? Date.now(), g.dirtySince ?? Date.now());
        this.log?.warn({ err: error }, 'vector index: writing a snapshot failed; will try again');
      } finally {
        g.saving = undefined;
      }
    })();
    await g.saving;
  }

  private async evictBeyondBudget(keep: AnnGroup): Promise<void> {
    const bytesPerFace = CODES_BYTES_PER_FACE + VECTOR_BYTES_PER_FACE;
    const resident = () => [...this.groups.values()].reduce((sum, g) => sum + g.faces * bytesPerFace, 0);
    while (resident() > this.settings.memoryBudgetBytes) {
      const victim = [...this.groups.values()]
        .filter((g) => g !== keep && g.state === 'ready')
        .sort((a, b) => a.lastUsed - b.lastUsed)[0];
      if (!victim) return;
      await this.save(victim);
      if (this.groups.get(victim.name) === victim) this.forget(victim.name);
      this.log?.info({ faces: victim.faces }, "vector index: least recently searched group's codes evicted");
    }
  }

  /** Fire-and-forget work must not become an unhandled rejection; a failed write drops the codes. */
  private quietly(work: Promise<unknown>, g?: AnnGroup): void {
    work.catch((error: unknown) => {
      this.log?.warn({ err: error }, 'vector index: an update failed; the group will be reloaded');
      if (g && this.groups.get(g.name) === g) this.forget(g.name);
    });
  }
}

function markDirty(g: AnnGroup, changes: number): void {
  if (changes === 0) return;
  g.dirty += changes;
  g.dirtySince ??= Date.now();
}

/**
 * Resident bytes per face: a 64-byte code, its 2-byte distance scratch, an 8-byte key and the
 * key's map entry (about 40 bytes); capacity grows by doubling, so up to twice that just after a growth.
 */
export const CODES_BYTES_PER_FACE = 64 + 2 + 8 + 40;

function packVectors(faces: { vector: Float32Array }[], dimensions: number): Float32Array {
  const out = new Float32Array(faces.length * dimensions);
  faces.forEach((f, i) => out.set(f.vector, i * dimensions));
  return out;
}

/** How a group is named to the scan thread and to its snapshot file. */
export const groupName = (g: { appKey: string; groupId: string }) => `${g.appKey}\u0000${g.groupId}`;
