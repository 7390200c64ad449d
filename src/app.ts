import { createHmac } from 'node:crypto';
import { join } from 'node:path';
import type { Config, DatabaseConfig } from './config.js';
import { Apps, groupIdsOf } from './domain/apps.js';
import { ImageReader, type UrlFetcher } from './domain/images.js';
import { PageTokens } from './domain/page-tokens.js';
import { PrivacyService, type ErasureReach } from './domain/privacy.js';
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
import { PgFaceSearch } from './index/pg-face-search.js';
import { fetchImage } from './net/image-fetch.js';
import { PgConnection } from './store/pg-connection.js';
import { PgPrivacy } from './store/pg-privacy.js';
import { PgStore } from './store/pg-store.js';
import type { AuditLog, ConsentRecords, RetentionPolicies } from './store/privacy-store.js';
import { SqlitePrivacy } from './store/sqlite-privacy.js';
import { SqlitePersons } from './store/sqlite-persons.js';
import { PgPersons } from './store/pg-persons.js';
import type { ClusterJobs, PersonStore } from './store/person-store.js';
import { PersonService } from './domain/persons.js';
import { ClusterService } from './domain/clusters.js';
import { UsearchClusterer } from './index/cluster/usearch-clusterer.js';
import { SqliteStore } from './store/sqlite-store.js';
import { DATABASE_FILE } from './store/sqlite-connection.js';
import { WalCheckpointer } from './store/wal-checkpointer.js';
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

/** What a runtime needs from its storage: the store, its search, the privacy ports and their lifecycle. */
interface StoragePorts {
  store: Store;
  faceSearch: FaceSearch;
  privacyStore: AuditLog & RetentionPolicies & ConsentRecords;
  /** Signs page tokens and keys audit pseudonyms; the same on every node of one installation. */
  tokenSecret: Uint8Array;
  reach: ErasureReach;
  /** Persons and clustering jobs (the /x/v1 extension, docs/persons.md). */
  persons: PersonStore & ClusterJobs & { close(): void };
  /** Work that runs once the runtime is up (a sweep of stale files); awaited on close. */
  started: Promise<void>;
  close(): Promise<void>;
}

type RuntimeOptions = {
  indexLog?: AnnLogger;
  /** A server (not a one-off CLI command): start the search thread of large groups at once. */
  warmIndex?: boolean;
  /** The retention sweep's time (tests inject it). */
  clock?: () => Date;
};

/**
 * SQLite mode (the default): one file under the data directory; small groups scanned exactly in
 * memory, large ones by a scan of binary codes in a worker thread, persisted encrypted under
 * <dataDir>/index (docs/scale.md).
 */
function sqlitePorts(config: Config, options: RuntimeOptions): StoragePorts {
  const store = SqliteStore.open(config.dataDir, { masterKey: config.masterKey });
  const faceSearch = new AnnFaceSearch(
    store,
    new ExactFaceSearch(store, EMBEDDING_SIZE),
    new SnapshotFiles(join(config.dataDir, INDEX_DIR), store.indexSecret()),
    {
      ...DEFAULT_ANN_SETTINGS,
      exactBelow: config.indexExactBelow,
      memoryBudgetBytes: config.indexMemoryBytes,
    },
    options.indexLog,
  );
  if (options.warmIndex) faceSearch.warm();
  const privacyStore = SqlitePrivacy.open(config.dataDir);
  const checkpointer = new WalCheckpointer({ path: join(config.dataDir, DATABASE_FILE), busyTimeoutMs: 5000 }, 1000, (err: unknown) => {
    options.indexLog?.warn({ err }, 'storage: a WAL checkpoint failed; will try again');
  });
  // Snapshots of groups that no longer exist (an app deleted by the CLI while no server ran) go.
  const started = allGroups(store).then(async (groups) => { await faceSearch.removeOrphanSnapshots(groups); }).catch((err: unknown) => {
    options.indexLog?.warn({ err }, 'vector index: could not sweep snapshots of deleted groups');
  });
  return {
    store, faceSearch, privacyStore,
    // Their own connection to the same file; the store has migrated the schema by now.
    persons: SqlitePersons.open(config.dataDir),
    // Derived from the master key, so tokens survive restarts.
    tokenSecret: store.tokenSecret(),
    reach: { faceSearch, flushIndex: () => faceSearch.saveChanged(), residue: privacyStore },
    started,
    close: async () => {
      await faceSearch.close();
      await checkpointer.close();
      privacyStore.close();
      await store.close();
    },
  };
}

/**
 * PostgreSQL mode (FACEREC_DATABASE_URL): the database is the store and the search of every node;
 * this node keeps nothing another node must know (docs/architecture.md).
 */
async function postgresPorts(database: DatabaseConfig, options: RuntimeOptions): Promise<StoragePorts> {
  const connection = new PgConnection(database, (err) => options.indexLog?.warn({ err }, 'database: an idle connection broke; the pool opens a new one'));
  try {
    const store = await PgStore.open(connection);
    const faceSearch = new PgFaceSearch(connection, EMBEDDING_SIZE);
    return {
      store, faceSearch, privacyStore: new PgPrivacy(connection), persons: new PgPersons(connection),
      // Generated by the first node and kept in the database: a token from node A works on node B.
      tokenSecret: store.tokenSecret(),
      reach: { faceSearch },
      started: Promise.resolve(),
      close: () => connection.close(),
    };
  } catch (err) {
    await connection.close();
    throw err;
  }
}

/** Wires store, index, engine and domain together; every transport starts from here. */
export async function createRuntime(config: Config, analyzer: FaceAnalyzer, options: RuntimeOptions = {}): Promise<Runtime> {
  const ports = config.database ? await postgresPorts(config.database, options) : sqlitePorts(config, options);
  const { store, faceSearch, privacyStore, reach } = ports;
  const images = new ImageReader(analyzer, urlFetcher(config), config.maxImageBytes);
  const tokens = new PageTokens(ports.tokenSecret, config.pageTokenTtlMs);
  // Pseudonyms in the audit log are keyed from the token secret: stable across restarts and nodes.
  // An entry that cannot be written (a full disk) does not fail the operation it records: reads
  // keep working, and a register whose face is stored is not answered -50000 (docs/privacy.md).
  const auditWriteFailed = (err: unknown, event: { action: string }) => {
    const message = `audit log: a ${event.action} entry could not be written; the operation went ahead without it`;
    if (options.indexLog) options.indexLog.warn({ err }, message);
    else process.emitWarning(`${message}: ${(err as Error)?.message ?? String(err)}`);
  };
  const audit = new AuditTrail(privacyStore, createHmac('sha256', ports.tokenSecret).update('facerec audit pseudonyms').digest(), undefined, auditWriteFailed);
  const service: FaceService = new AuditedFaceService(audit, store, images, faceSearch, tokens, analyzer.modelVersion, config.limits);
  const privacy = new PrivacyService(store, reach, audit, privacyStore);
  const persons = new PersonService(store, ports.persons, service, images, faceSearch, tokens, audit);
  const clusters = new ClusterService(store, ports.persons, persons, new UsearchClusterer(), EMBEDDING_SIZE, options.indexLog);
  void clusters.resume().catch((err: unknown) => options.indexLog?.warn({ err }, 'clustering: could not resume interrupted jobs'));
  const retention = new RetentionService(store, privacyStore, reach, audit, options.clock);
  const sweep = () => retention.sweep().catch((err: unknown) => options.indexLog?.warn({ err }, 'retention: the sweep failed; it runs again within the hour'));
  let sweeping = sweep();
  const sweeper = setInterval(() => (sweeping = sweep()), RETENTION_SWEEP_MS).unref();
  const pruneAudit = () => audit.prune(config.auditRetentionMs).catch((err: unknown) => options.indexLog?.warn({ err }, 'audit log: pruning failed'));
  void pruneAudit();
  const auditPruner = setInterval(() => void pruneAudit(), 24 * 3600 * 1000).unref();
  return { service, apps: new Apps(store, (group) => faceSearch.dropped(group)), privacy, audit, retention, persons, clusters, store, faceSearch, close: async () => {
    await clusters.close();
    clearInterval(auditPruner);
    clearInterval(sweeper);
    await sweeping;
    await ports.started;
    ports.persons.close();
    await ports.close();
  } };
}
