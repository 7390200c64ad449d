import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import type { LeadFaceRule } from './engine/engine.js';
import { DEFAULT_DETECTOR_SETTING, DETECTOR_SETTINGS, type DetectorSetting } from './engine/face-finder.js';
import { DEFAULT_MASK_MODEL, MASK_MODELS, type MaskModel } from './engine/mask.js';
import { DEFAULT_SOLO_THREADS } from './engine/solo.js';
import { DEFAULT_LIMITS, DEFAULT_MAX_IMAGE_BYTES, type DomainLimits } from './domain/limits.js';
import { DEFAULT_ANN_SETTINGS } from './index/ann/ann-face-search.js';

/** Everything an operator can set, read once from the environment. */
export interface Config {
  port: number;
  host: string;
  dataDir: string;
  appKey?: string;
  secretKey?: string;
  masterKey?: string;
  logLevel: string;
  /** JSON lines for machines, or pino-pretty's lines for a person at a terminal. */
  logFormat: LogFormat;
  limits: DomainLimits;
  maxImageBytes: number;
  workers: number;
  queue: number;
  /** Intra-op threads of a request while it is the only one in flight (engine/solo.ts); 1: off. */
  loneRequestThreads: number;
  /** On-premise flag: image URLs may point at private (RFC 1918, loopback) addresses. */
  allowPrivateUrls: boolean;
  urlTimeoutMs: number;
  pageTokenTtlMs: number;
  /** Which face of a photo leads (detect order, register's limit, the source face): NHN's 'largest', or 'central'. */
  leadFace: LeadFaceRule;
  /** Which detectors find faces: RFB-320 with YuNet as its fallback (default), either alone. */
  detectors: DetectorSetting;
  /** Which probe sets the mask flag: the hand-set skin rule (default) or the probe trained on painted masks. */
  maskModel: MaskModel;
  /** Groups with fewer faces are searched by an exact scan; larger ones through the binary-code index (docs/scale.md). */
  indexExactBelow: number;
  /** Bytes the resident indexes may take before the least recently searched are evicted. */
  indexMemoryBytes: number;
  /** Audit log entries older than this are pruned (docs/privacy.md). */
  auditRetentionMs: number;
  /** PostgreSQL instead of the SQLite file: the shared store and search of several nodes (docs/architecture.md). */
  database?: DatabaseConfig;
}

export interface DatabaseConfig {
  /** postgres://user:password@host:port/database?sslmode=… */
  url: string;
  /** Connections this node keeps open. */
  poolSize: number;
  /** A statement running longer is cancelled; also the wait for a connection. */
  statementTimeoutMs: number;
  /** PEM file of the CA that signed the server's certificate (TLS; verify-full). */
  caFile?: string;
}

/** FACEREC_DATABASE_URL selects PostgreSQL; without it nothing about the database is read. */
function databaseConfig(env: NodeJS.ProcessEnv): DatabaseConfig | undefined {
  const url = env.FACEREC_DATABASE_URL;
  if (url === undefined || url === '') return undefined;
  if (!/^postgres(ql)?:\/\//.test(url)) throw new Error('FACEREC_DATABASE_URL must be a postgres:// URL');
  return {
    url,
    poolSize: int(env, 'FACEREC_DATABASE_POOL', 10),
    statementTimeoutMs: int(env, 'FACEREC_DATABASE_STATEMENT_TIMEOUT_MS', 5000),
    caFile: env.FACEREC_DATABASE_CA_FILE || undefined,
  };
}

const DAY_MS = 24 * 3600 * 1000;

export type LogFormat = 'json' | 'pretty';

function int(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 1): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
}

function leadFaceRule(raw: string | undefined): LeadFaceRule {
  if (raw === undefined || raw === '' || raw === 'largest') return 'largest';
  if (raw === 'central') return 'central';
  throw new Error(`FACEREC_LEAD_FACE must be "largest" or "central", got "${raw}"`);
}

function detectorSetting(raw: string | undefined): DetectorSetting {
  if (raw === undefined || raw === '') return DEFAULT_DETECTOR_SETTING;
  if ((DETECTOR_SETTINGS as readonly string[]).includes(raw)) return raw as DetectorSetting;
  throw new Error(`FACEREC_DETECTOR must be one of ${DETECTOR_SETTINGS.map((d) => `"${d}"`).join(', ')}, got "${raw}"`);
}

function maskModel(raw: string | undefined): MaskModel {
  if (raw === undefined || raw === '') return DEFAULT_MASK_MODEL;
  if ((MASK_MODELS as readonly string[]).includes(raw)) return raw as MaskModel;
  throw new Error(`FACEREC_MASK_MODEL must be one of ${MASK_MODELS.map((m) => `"${m}"`).join(', ')}, got "${raw}"`);
}

/** Unset: pretty when stdout is a terminal (someone is watching), JSON otherwise (a collector is). */
function logFormat(raw: string | undefined, stdoutIsTty: boolean): LogFormat {
  if (raw === undefined || raw === '') return stdoutIsTty ? 'pretty' : 'json';
  if (raw === 'json' || raw === 'pretty') return raw;
  throw new Error(`FACEREC_LOG_FORMAT must be "json" or "pretty", got "${raw}"`);
}

const flag = (env: NodeJS.ProcessEnv, name: string) => ['1', 'true', 'yes'].includes((env[name] ?? '').toLowerCase());

const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };

export function loadConfig(env: NodeJS.ProcessEnv = process.env, stdoutIsTty = process.stdout.isTTY === true): Config {
  const workers = int(env, 'FACEREC_WORKERS', availableParallelism());
  return {
    port: int(env, 'PORT', 8080, 0),
    host: env.HOST ?? '0.0.0.0',
    dataDir: resolve(env.FACEREC_DATA_DIR ?? './data'),
    appKey: env.FACEREC_APPKEY || undefined,
    secretKey: env.FACEREC_SECRETKEY || undefined,
    masterKey: env.FACEREC_MASTER_KEY || undefined,
    logLevel: env.FACEREC_LOG_LEVEL || 'info',
    logFormat: logFormat(env.FACEREC_LOG_FORMAT, stdoutIsTty),
    limits: {
      ...DEFAULT_LIMITS,
      maxFacesPerGroup: int(env, 'FACEREC_MAX_FACES_PER_GROUP', DEFAULT_LIMITS.maxFacesPerGroup),
      maxGroupsPerApp: int(env, 'FACEREC_MAX_GROUPS', DEFAULT_LIMITS.maxGroupsPerApp),
    },
    maxImageBytes: int(env, 'FACEREC_MAX_IMAGE_BYTES', DEFAULT_MAX_IMAGE_BYTES),
    workers,
    queue: int(env, 'FACEREC_QUEUE', workers * 16, 1),
    loneRequestThreads: int(env, 'FACEREC_LONE_REQUEST_THREADS', DEFAULT_SOLO_THREADS),
    allowPrivateUrls: flag(env, 'FACEREC_ALLOW_PRIVATE_URLS'),
    urlTimeoutMs: int(env, 'FACEREC_URL_TIMEOUT_MS', 5000),
    pageTokenTtlMs: int(env, 'FACEREC_PAGE_TOKEN_TTL_S', 3600) * 1000,
    leadFace: leadFaceRule(env.FACEREC_LEAD_FACE),
    detectors: detectorSetting(env.FACEREC_DETECTOR),
    maskModel: maskModel(env.FACEREC_MASK_MODEL),
    indexExactBelow: int(env, 'FACEREC_INDEX_EXACT_BELOW', DEFAULT_ANN_SETTINGS.exactBelow),
    indexMemoryBytes: int(env, 'FACEREC_INDEX_MEMORY_MB', DEFAULT_ANN_SETTINGS.memoryBudgetBytes / 2 ** 20) * 2 ** 20,
    auditRetentionMs: int(env, 'FACEREC_AUDIT_RETENTION_DAYS', 365) * DAY_MS,
    ...optional('database', databaseConfig(env)),
  };
}
