import { setTimeout as sleep } from 'node:timers/promises';
import { FacerecApiError, ResultCodes, type FacerecClient, type GroupDetails } from '../../client/index.js';
import { externalIdFor, type ExternalIdSource } from './external-id.js';
import { IndexJournal, JournalWriteError } from './journal.js';
import { findPhotos, type PhotoFile } from './photos.js';
import type { IndexReport, IndexTotals } from './report.js';
import { bytesForUpload, MAX_UPLOAD_BYTES } from './upload-bytes.js';

export interface IndexOptions {
  folder: string;
  groupId: string;
  /** Where requests go and as which app: the state file is valid only for the same pair. */
  target: string;
  appKey: string;
  statePath: string;
  externalIdFrom?: ExternalIdSource;
  concurrency: number;
  /** Faces registered per photo, largest first. */
  facesPerPhoto: number;
  signal: AbortSignal;
  progress: ProgressSink;
  notice: (message: string) => void;
}

export interface ProgressSink {
  start(total: number, alreadyDone: number): void;
  update(done: number, totals: IndexTotals): void;
  stop(): void;
}

/** Errors after which every further photo would fail the same way: stop instead of hammering on. */
const STOP_CODES = new Set<number>([ResultCodes.QuotaExceeded, ResultCodes.NotFoundGroup, ResultCodes.UnauthorizedAppKey, ResultCodes.UnauthorizedAppKeyOrSecretKey]);
const BUSY_RETRIES = 3;

/**
 * Registers every photo of a folder into a group, resumably. A photo counts as done once its
 * line is in the state file (after the server acknowledged it). With `externalIdFrom`, each
 * photo not in the state is first looked up by its externalImageId, so a photo registered just
 * before an interruption — or before the state file was lost — is not registered twice.
 */
export async function runIndex(client: FacerecClient, o: IndexOptions): Promise<IndexReport> {
  const group = await ensureGroup(client, o.groupId, o.notice);
  const photos = await findPhotos(o.folder);
  const { journal, restarted } = IndexJournal.open(o.statePath, {
    kind: 'facerec-index-state',
    version: 1,
    target: o.target,
    appKey: o.appKey,
    groupId: o.groupId,
    groupCreateTime: group.createTime,
  });
  if (restarted) o.notice(`group ${o.groupId} was created again since the state file was written: starting over`);

  const totals: IndexTotals = { files: photos.length, added: 0, facesAdded: 0, skipped: 0, noFace: 0, errors: 0, notAttempted: 0 };
  const errors: IndexReport['errors'] = [];
  const fail = (file: string, resultCode: number | null, resultMessage: string, detail?: string) => {
    errors.push({ file, resultCode, resultMessage, ...(detail ? { detail } : {}) });
    totals.errors++;
  };

  const externalIds = o.externalIdFrom ? assignExternalIds(photos, o.externalIdFrom, fail) : new Map<string, string>();
  const todo = photos.filter((p) => !journal.isDone(p) && (!o.externalIdFrom || externalIds.has(p.rel)));
  // Photos without a face are counted under noFace whichever run found them, so that
  // added + skipped + noFace + errors + notAttempted = files.
  totals.skipped = photos.filter((p) => journal.isDone(p) && journal.entry(p.rel)?.outcome !== 'no-face').length;
  if (!o.externalIdFrom && todo.length === photos.length && group.faceCount > 0 && photos.length > 0) {
    o.notice(`group ${o.groupId} already holds ${group.faceCount} faces and this folder has no index state: without --external-id-from, photos registered before are registered again`);
  }

  let stopReason: string | undefined;
  let done = photos.length - todo.length;
  let next = 0;
  o.progress.start(photos.length, done);

  const indexOne = async (photo: PhotoFile) => {
    const externalImageId = externalIds.get(photo.rel);
    try {
      if (externalImageId) {
        const existing = await client.listFacesPage(o.groupId, { limit: 20, externalImageId });
        if (existing.faceCount > 0) {
          journal.record({ file: photo.rel, size: photo.size, mtimeMs: photo.mtimeMs, outcome: 'already-registered', faceIds: existing.faces.map((f) => f.faceId), externalImageId });
          totals.skipped++;
          return;
        }
      }
      const bytes = await bytesForUpload(photo.path);
      if (!bytes) {
        fail(photo.rel, ResultCodes.ImageTooLarge, `ImageTooLargeException: over ${MAX_UPLOAD_BYTES} bytes and could not be re-encoded smaller; not sent`);
        return;
      }
      const r = await retryWhenBusy(() =>
        client.registerFaces(o.groupId, bytes, { limit: o.facesPerPhoto, ...(externalImageId ? { externalImageId } : {}), orientation: false, mask: false }),
      );
      const base = { file: photo.rel, size: photo.size, mtimeMs: photo.mtimeMs, ...(externalImageId ? { externalImageId } : {}) };
      if (r.addedFaceCount > 0) {
        journal.record({ ...base, outcome: 'added', faceIds: r.addedFaces.map((f) => f.faceId) });
        totals.added++;
        totals.facesAdded += r.addedFaceCount;
        if (r.resultCode === ResultCodes.PartialSuccessQuotaExceeded) stopReason = `group ${o.groupId} is full (resultCode ${r.resultCode})`;
      } else {
        const reason = r.notAddedFaceCount > 0 ? 'faces found, but too small or turned too far away to register' : 'no face found';
        journal.record({ ...base, outcome: 'no-face', faceIds: [], reason });
        totals.noFace++;
      }
    } catch (e) {
      if (e instanceof JournalWriteError) {
        // Registered, but not remembered: going on would lose track of more photos.
        fail(photo.rel, null, e.message);
        stopReason = e.message;
      } else if (e instanceof FacerecApiError) {
        fail(photo.rel, e.resultCode, e.resultMessage, e.detail);
        if (STOP_CODES.has(e.resultCode)) stopReason = `${e.resultMessage} (resultCode ${e.resultCode})${e.detail ? `: ${e.detail}` : ''}`;
      } else if ((e as Error).name === 'TimeoutError' || (e as NodeJS.ErrnoException).code?.startsWith('E')) {
        // A request that took too long, or a file that vanished or cannot be read: this photo only.
        fail(photo.rel, null, (e as Error).message);
      } else {
        // The server is unreachable or not speaking the API: every further photo would fail too.
        fail(photo.rel, null, (e as Error).message);
        stopReason = `request failed: ${(e as Error).message}`;
      }
    }
  };

  const worker = async () => {
    while (!stopReason && !o.signal.aborted && next < todo.length) {
      await indexOne(todo[next++]);
      o.progress.update(++done, totals);
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(o.concurrency, todo.length)) }, worker));
  } finally {
    o.progress.stop();
    journal.close();
  }
  totals.notAttempted = todo.length - next;

  const noFace = photos.flatMap((p) => {
    const e = journal.entry(p.rel);
    return e?.outcome === 'no-face' && journal.isDone(p) ? [{ file: p.rel, reason: e.reason ?? 'no face found' }] : [];
  });
  totals.noFace = noFace.length;
  return {
    groupId: o.groupId,
    folder: o.folder,
    target: o.target,
    finishedAt: new Date().toISOString(),
    ...(o.signal.aborted ? { stoppedEarly: 'interrupted' } : stopReason ? { stoppedEarly: stopReason } : {}),
    totals,
    noFace,
    errors,
  };
}

async function ensureGroup(client: FacerecClient, groupId: string, notice: (m: string) => void): Promise<GroupDetails> {
  try {
    return await client.getGroup(groupId);
  } catch (e) {
    if (!(e instanceof FacerecApiError) || e.resultCode !== ResultCodes.NotFoundGroup) throw e;
    await client.createGroup(groupId);
    notice(`created group ${groupId}`);
    return client.getGroup(groupId);
  }
}

/**
 * externalImageIds for every photo. Two photos that map to the same id (a/x.jpg and b/x.jpg)
 * could not be told apart on the server, so the later one is reported instead of registered.
 */
function assignExternalIds(photos: PhotoFile[], source: ExternalIdSource, fail: (file: string, code: null, message: string) => void): Map<string, string> {
  const ids = new Map<string, string>();
  const owner = new Map<string, string>();
  for (const p of photos) {
    const id = externalIdFor(p.rel, source);
    const first = owner.get(id);
    if (first !== undefined) {
      fail(p.rel, null, `externalImageId ${id} is also that of ${first}; rename one, or use --external-id-from path`);
      continue;
    }
    owner.set(id, p.rel);
    ids.set(p.rel, id);
  }
  return ids;
}

/** The server says when it is overloaded (Retry-After); anything else is not retried. */
async function retryWhenBusy<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!(e instanceof FacerecApiError) || e.retryAfterSeconds === undefined || attempt > BUSY_RETRIES) throw e;
      await sleep(e.retryAfterSeconds * 1000 * attempt);
    }
  }
}
