import { cosine } from '../../engine/vectors.js';
import type { VectorReader } from '../../store/worker-vectors.js';
import type { SearchHit } from '../face-search.js';
import { BinaryCodes, CODE_BITS } from './binary-codes.js';
import { SlotVectors } from './slot-vectors.js';

/** One search, as the scan thread ranks it. */
export interface RankRequest {
  appKey: string;
  groupId: string;
  query: Float32Array;
  /** Nearest codes re-ranked. */
  candidates: number;
  k: number;
  minScore: number;
  exclude?: string;
}

/**
 * How far rounding to 8 bits may move a cosine: the largest error in a million synthetic pairs
 * was 1.8e-3 (rms 3e-4; docs/scale.md).
 */
export const ROUNDING_REACH = 2e-3;

/** Resident bytes per face of the 8-bit vectors: 512 values and a 4-byte scale. */
export const VECTOR_BYTES_PER_FACE = CODE_BITS + 4;

/**
 * What the scan thread holds of a large group: its binary codes, which propose candidates, and
 * its vectors at 8 bits a dimension by the same slots, which rank them (slot-vectors.ts).
 *
 * A group built from the store gets both as its faces arrive. One loaded from its snapshot gets
 * its codes at once and its vectors afterwards, a batch at a time, from the store (`fill`): a
 * snapshot holds codes only, so a restart's first answer is not kept waiting for 0.5 GB a million
 * faces, and quantised vectors are never written to disk. Until a candidate's vector is in, it is
 * read from the store and scored exactly, as every candidate was before.
 */
export class ResidentGroup {
  readonly vectors = new SlotVectors(CODE_BITS);
  /** Slots below it have been offered to `fill`. */
  private fillCursor = 0;

  constructor(readonly codes: BinaryCodes = new BinaryCodes()) {}

  get count(): number {
    return this.codes.count;
  }

  add(key: number, vector: Float32Array): void {
    if (this.codes.add(key, vector)) this.vectors.set(this.codes.count - 1, vector);
  }

  /** Removes the face from both; the last slot moves into its place, in both. */
  remove(key: number): void {
    const slot = this.codes.slotOf(key);
    if (slot === undefined) return;
    const last = this.codes.count - 1;
    this.codes.remove(key);
    this.vectors.clear(slot);
    this.vectors.move(last, slot);
    // A face not filled in yet moved below the cursor: the next fill goes back for it.
    if (slot < this.fillCursor && !this.vectors.has(slot)) this.fillCursor = slot;
    this.vectors.release(this.codes.count);
  }

  /**
   * Reads the vectors of up to `limit` faces that lack one from the store. True in `done` once
   * every slot has been offered; a face the store no longer holds (its removal still on its way)
   * stays without one and is read whenever it is a candidate, as before.
   */
  fill(reader: VectorReader, appKey: string, groupId: string, limit: number): { done: boolean; filled: number } {
    const keys = this.codes.keys();
    const wanted: number[] = [];
    let slot = Math.min(this.fillCursor, keys.length);
    for (; slot < keys.length && wanted.length < limit; slot++) if (!this.vectors.has(slot)) wanted.push(keys[slot]);
    let filled = 0;
    for (const face of reader.vectorsByKeys(appKey, groupId, wanted)) {
      const at = this.codes.slotOf(face.key);
      if (at === undefined || this.vectors.has(at)) continue;
      this.vectors.set(at, face.vector);
      filled++;
    }
    this.fillCursor = slot;
    return { done: slot >= keys.length, filled };
  }

  /**
   * The best `k` faces at or above `minScore`, best first, among the `candidates` nearest codes.
   * Only the best are named by the store (their face ids are not held here), which also leaves out
   * a face deleted from the store whose removal has not reached this thread.
   */
  rank(reader: VectorReader, r: RankRequest): SearchHit[] {
    const { keys, slots } = this.codes.search(r.query, r.candidates);
    const held: { key: number; score: number }[] = [];
    const unheld: number[] = [];
    for (let i = 0; i < keys.length; i++) {
      const [key, slot] = [keys[i], slots[i]];
      if (!this.vectors.has(slot)) unheld.push(key);
      else {
        const score = this.vectors.score(slot, r.query);
        if (score >= r.minScore) held.push({ key, score });
      }
    }
    held.sort((a, b) => b.score - a.score);
    const best = held.slice(0, r.k + (r.exclude !== undefined ? 1 : 0));
    // Those within twice the rounding's reach of the best could be the best: they are scored
    // exactly, so the top face is the one exact scores put first. Usually one to three. The face
    // excluded (a search by a stored face's id) is likely the best: then the reach is measured
    // from the second. Candidates without an 8-bit vector yet are scored exactly too.
    const anchor = best[r.exclude !== undefined ? 1 : 0] ?? best[0];
    const exactly = new Set(unheld);
    for (const h of best) if (h.score >= anchor.score - 2 * ROUNDING_REACH) exactly.add(h.key);
    const rounded = new Map(best.map((h) => [h.key, h.score]));
    // One read names them all, with what the answer shows of them; only those scored exactly are
    // decrypted (never the excluded face).
    const wanted = [...unheld, ...best.map((h) => h.key)];
    const hits: SearchHit[] = [];
    for (const face of reader.facesByKeys(r.appKey, r.groupId, wanted, { keys: [...exactly], except: r.exclude })) {
      if (face.faceId === r.exclude) continue;
      const score = face.vector ? cosine(face.vector, r.query) : rounded.get(face.key)!;
      if (score < r.minScore) continue;
      const { imageId, externalImageId, bbox, confidence } = face;
      hits.push({ faceId: face.faceId, score, face: externalImageId === undefined ? { imageId, bbox, confidence } : { imageId, externalImageId, bbox, confidence } });
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, r.k);
  }
}
