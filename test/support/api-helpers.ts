import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createRuntime, type Runtime } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { FaceEngine } from '../../src/engine/engine.js';
import { buildServer } from '../../src/http/server.js';
import { databaseEnv, dropDatabase } from './test-database.js';

let sharedEngine: Promise<FaceEngine> | undefined;
/** One in-process engine for all API tests: models load once, answers are the same as the pool's. */
export const engine = () => (sharedEngine ??= FaceEngine.create());

export interface TestApi {
  app: FastifyInstance;
  runtime: Runtime;
  config: Config;
  appKey: string;
  secretKey: string;
  dataDir: string;
  v1(method: string, path: string, body?: unknown): Promise<any>;
  v2(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<any>;
  /** Closes the server and store; the data dir stays until `dispose`. */
  close(): Promise<void>;
  dispose(): Promise<void>;
}

export async function startApi(overrides: Partial<Config> = {}, dataDir = mkdtempSync(join(tmpdir(), 'facerec-api-')), runtimeOptions: Parameters<typeof createRuntime>[2] = {}): Promise<TestApi> {
  const base = loadConfig({ FACEREC_DATA_DIR: dataDir, FACEREC_MASTER_KEY: '11'.repeat(32), ...(await databaseEnv(dataDir)) });
  const config: Config = { ...base, ...overrides, limits: { ...base.limits, ...(overrides.limits ?? {}) } };
  const runtime = await createRuntime(config, await engine(), runtimeOptions);
  const apps = await runtime.apps.list();
  const keys = apps.length ? { appKey: apps[0].appKey, secretKey: 'test-secret' } : await runtime.apps.create({ secretKey: 'test-secret' });
  const app = buildServer({ service: runtime.service, apps: runtime.apps, privacy: runtime.privacy, audit: runtime.audit, retention: runtime.retention, persons: runtime.persons, clusters: runtime.clusters, maxImageBytes: config.maxImageBytes });
  await app.ready();
  const call = async (url: string, method: string, body: unknown, headers: Record<string, string>) => {
    const res = await app.inject({ method: method as 'GET', url, headers, ...(body === undefined ? {} : typeof body === 'object' && !(body instanceof Buffer) ? { payload: body as object } : { payload: body as Buffer }) });
    return { status: res.statusCode, headers: res.headers, ...(res.body ? JSON.parse(res.body) : {}) };
  };
  const api: TestApi = {
    app,
    runtime,
    config,
    dataDir,
    ...keys,
    v1: (method, path, body) => call(`/nhn-face-reco/v1.0/appkeys/${keys.appKey}${path}`, method, body, {}),
    v2: (method, path, body, headers = {}) => call(`/v2.0/appkeys/${keys.appKey}${path}`, method, body, { authorization: keys.secretKey, ...headers }),
    close: async () => {
      await app.close();
      await runtime.close();
    },
    dispose: async () => {
      await api.close().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
      await dropDatabase(dataDir);
    },
  };
  return api;
}

export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

/** A multipart/form-data body built by hand, so tests control every part (doubled, missing…). */
export function multipart(parts: ({ name: string; value: string } | { name: string; file: Uint8Array; filename?: string })[]): { payload: Buffer; headers: Record<string, string> } {
  const boundary = '----facerec' + Math.random().toString(16).slice(2);
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\n`));
    if ('file' in p) {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${p.name}"; filename="${p.filename ?? 'image.jpg'}"\r\nContent-Type: application/octet-stream\r\n\r\n`));
      chunks.push(Buffer.from(p.file));
    } else {
      chunks.push(Buffer.from(`Content-Disposition: form-data; name="${p.name}"\r\n\r\n${p.value}`));
    }
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { payload: Buffer.concat(chunks), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}

export const ok = (r: any) => r.header?.isSuccessful === true && r.header.resultCode === 0;
