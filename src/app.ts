import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from './config.js';
import { Apps, groupIdsOf } from './domain/apps.js';
import { ImageReader, type UrlFetcher } from './domain/images.js';
import { PageTokens } from './domain/page-tokens.js';
import { PrivacyService } from './domain/privacy.js';
import { RetentionService } from './domain/retention.js';
import { AuditTrail } from './domain/audit.js';
import { AuditedFaceService } from './domain/audited-service.js';
import type { FaceService } from './domain/service.js';
import type { FaceAnalyzer } from './engine/analyzer.js';
import { EMBEDDING_SIZE } from './engine/vectors.js';
import { AnnFaceSearch, DEFAULT_ANN_SETTINGS, type AnnLogger } from './index/ann/ann-face-search.js';
import { INDEX_DIR, SnapshotFiles } from './index/ann/snapshot-files.js';
import { ExactFaceSearch } from './index/exact-face-search.js';
import { toGroupRef, type FaceSearch, type GroupRef } from './index/face-search.js';
import { fetchImage } from './net/image-fetch.js';
import { SqlitePrivacy } from './store/sqlite-privacy.js';
import { SqlitePersons } from './store/sqlite-persons.js';
import { PersonService } from './domain/persons.js';
import { ClusterService } from './domain/clusters.js';
import { UsearchNeighbours } from './index/cluster/knn.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

export interface Runtime {
  service: FaceService;
  apps: Apps;
  /** Subject access and erasure across an app's groups (the /x/v1 extension). */
  privacy: PrivacyService;
  /** Who did what to which face (docs/privacy.md). */
  audit: AuditTrail;
  /** Retention periods and the sweep that applies them. */
  retention: RetentionService;
  /** Persons of a group, search against them, album search (the /x/v1 extension, docs/persons.md). */
  persons: PersonService;
  /** Background clustering of a group's faces into identities. */
  clusters: ClusterService;
  store: Store;
  /** 1:N search over groups (benchmarks and operations look at it; requests go through `service`). */
  faceSearch: FaceSearch;
  close(): Promise<void>;
}

/** Every group of every app (ids only). */
export async function allGroups(store: Store): Promise<{ appKey: string; groupId: string }[]> {
  const out: { appKey: string; groupId: string }[] = [];
  for (const app of await store.listApps()) {
    for (const groupId of await groupIdsOf(store, app.appKey)) out.push({ appKey: app.appKey, groupId });
  }
  return out;
}

/** The index's view of a group, as the domain passes it. */
export async function groupRef(store: Store, appKey: string, groupId: string): Promise<GroupRef | undefined> {
  const g = await store.getGroup(appKey, groupId);
  return g && toGroupRef(g);
}

export { INDEX_DIR };

/** Downloads under the operator's size, time and address rules; the domain names the failures. */
export function urlFetcher(config: Pick<Config, 'maxImageBytes' | 'allowPrivateUrls' | 'urlTimeoutMs'>): UrlFetcher {
  return (url) => fetchImage(url, { maxBytes: config.maxImageBytes, timeoutMs: config.urlTimeoutMs, allowPrivateAddresses: config.allowPrivateUrls });
}

/** How often the retention sweep runs (also once at start-up). */
export const RETENTION_SWEEP_MS = 3600 * 1000;

/** Wires store, index, engine and domain together; every transport starts from here. */
export function createRuntime(
  config: Config,
  analyzer: FaceAnalyzer,
  /**
   * `clock`: the retention sweep's time (tests inject it). `searchBreadth`: a fixed graph search
   * breadth instead of the one that grows with a group (benches compare them).
   */
  options: { indexLog?: AnnLogger; clock?: () => Date; searchBreadth?: number } = {},
): Runtime {
  const store = SqliteStore.open(config.dataDir, { masterKey: config.masterKey });
  const images = new ImageReader(analyzer, urlFetcher(config), config.maxImageBytes);
  // Small groups: exact scans in memory. Large ones: HNSW graphs in a worker thread, persisted
  // encrypted under <dataDir>/index (docs/scale.md).
  const faceSearch = new AnnFaceSearch(
    store,
    new ExactFaceSearch(store, EMBEDDING_SIZE),
    new SnapshotFiles(join(config.dataDir, INDEX_DIR), store.indexSecret()),
    {
      ...DEFAULT_ANN_SETTINGS,
      exactBelow: config.indexExactBelow,
      memoryBudgetBytes: config.indexMemoryBytes,
      ...(options.searchBreadth ? { breadthGrowsAbove: 1, maxSearchBreadth: options.searchBreadth } : {}),
    },
    options.indexLog,
  );
  // Signed with a key derived from the master key, so tokens survive restarts and work across nodes.
  const tokens = new PageTokens(store.tokenSecret(), config.pageTokenTtlMs);
  const sqlitePrivacy = SqlitePrivacy.open(config.dataDir);
  // Pseudonyms in the audit log are keyed from the master key: stable across restarts and nodes.
  // An entry that cannot be written (a full disk) does not fail the operation it records: reads
  // keep working, and a register whose face is stored is not answered -50000 (docs/privacy.md).
  const auditWriteFailed = (err: unknown, event: { action: string }) => {
    const message = `audit log: a ${event.action} entry could not be written; the operation went ahead without it`;
    if (options.indexLog) options.indexLog.warn({ err }, message);
    else process.emitWarning(`${message}: ${(err as Error)?.message ?? String(err)}`);
  };
  const audit = new AuditTrail(sqlitePrivacy, createHmac('sha256', store.tokenSecret()).update('facerec audit pseudonyms').digest(), undefined, auditWriteFailed);
  const service: FaceService = new AuditedFaceService(audit, store, images, faceSearch, tokens, analyzer.modelVersion, config.limits);
  const reach = { faceSearch, flushIndex: () => faceSearch.saveChanged(), residue: sqlitePrivacy };
  const privacy = new PrivacyService(store, reach, audit, sqlitePrivacy);
  // Persons and clustering: their own ports on their own connection (docs/persons.md).
  const sqlitePersons = SqlitePersons.open(config.dataDir);
  const persons = new PersonService(store, sqlitePersons, service, images, faceSearch, tokens, audit);
  const clusters = new ClusterService(store, sqlitePersons, persons, new UsearchNeighbours(), EMBEDDING_SIZE, options.indexLog);
  void clusters.resume().catch((err: unknown) => options.indexLog?.warn({ err }, 'clustering: could not resume interrupted jobs'));
  const retention = new RetentionService(store, sqlitePrivacy, reach, audit, options.clock);
  const sweep = () => retention.sweep().catch((err: unknown) => options.indexLog?.warn({ err }, 'retention: the sweep failed; it runs again within the hour'));
  let sweeping = sweep();
  const sweeper = setInterval(() => (sweeping = sweep()), RETENTION_SWEEP_MS).unref();
  const pruneAudit = () => audit.prune(config.auditRetentionMs).catch((err: unknown) => options.indexLog?.warn({ err }, 'audit log: pruning failed'));
  void pruneAudit();
  const auditPruner = setInterval(() => void pruneAudit(), 24 * 3600 * 1000).unref();
  // Snapshots of groups that no longer exist (an app deleted by the CLI while no server ran) go.
  const swept = allGroups(store).then((groups) => faceSearch.removeOrphanSnapshots(groups)).catch((err: unknown) => {
    options.indexLog?.warn({ err }, 'vector index: could not sweep snapshots of deleted groups');
  });
  return { service, apps: new Apps(store, (group) => faceSearch.dropped(group)), privacy, audit, retention, persons, clusters, store, faceSearch, close: async () => {
    await clusters.close();
    clearInterval(auditPruner);
    clearInterval(sweeper);
    await sweeping;
    await swept;
    await faceSearch.close();
    sqlitePrivacy.close();
    sqlitePersons.close();
    await store.close();
  } };
}
