// The harness of the browser tests of the web console (test/console.test.ts,
// test/console-persons.test.ts): the real API and the console on a real port, headless Chromium
// from the system, and waits that poll the page until the UI has caught up with an API answer.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Locator } from 'playwright-core';
import { createRuntime, type Runtime } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { CONSOLE_PREFIX, defaultConsoleRoot, webConsole } from '../../src/http/console.js';
import { buildServer } from '../../src/http/server.js';
import { engine } from './api-helpers.js';

export const PROJECT = fileURLToPath(new URL('../..', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** For `describe(…, { skip: chromiumMissing })`. */
export const chromiumMissing = existsSync(CHROMIUM) ? false : `Chromium not found at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH); .ci/run installs it`;

export const launchChromium = (): Promise<Browser> =>
  chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });

/**
 * Registers the console unless server.ts already does (once its one-line registration lands);
 * `after()` loads the plugins queued so far, so their routes are visible to hasRoute.
 */
export async function withConsole(app: FastifyInstance): Promise<FastifyInstance> {
  await app.after();
  if (!app.hasRoute({ method: 'GET', url: CONSOLE_PREFIX })) app.register(webConsole);
  return app;
}

export interface ConsoleServer {
  origin: string;
  appKey: string;
  secretKey: string;
  runtime: Runtime;
  close(): Promise<void>;
}

/** The real API (engine, store, persons, clustering) plus the console, on a real port for the browser. */
export async function startConsoleServer(): Promise<ConsoleServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'facerec-console-api-'));
  const config = loadConfig({ FACEREC_DATA_DIR: dataDir, FACEREC_MASTER_KEY: '22'.repeat(32) });
  const runtime = await createRuntime(config, await engine());
  const keys = await runtime.apps.create({ secretKey: 'console-secret' });
  const app = await withConsole(buildServer({ service: runtime.service, apps: runtime.apps, privacy: runtime.privacy, audit: runtime.audit, retention: runtime.retention, persons: runtime.persons, clusters: runtime.clusters, maxImageBytes: config.maxImageBytes }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return {
    origin: `http://127.0.0.1:${port}`,
    ...keys,
    runtime,
    close: async () => {
      await app.close();
      await runtime.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** web/dist as `npm ci` leaves it; built here if a developer removed it. */
export function ensureBuilt(): void {
  if (existsSync(join(defaultConsoleRoot(), 'index.html'))) return;
  const r = spawnSync(process.execPath, [join(PROJECT, 'web', 'build.mjs')], { stdio: 'inherit' });
  assert.equal(r.status, 0, 'npm run build:web failed');
}

/** Moves a range input the way a user's drag does: React sees an input event with the new value. */
export async function setRange(slider: Locator, value: number): Promise<void> {
  await slider.evaluate((el: HTMLInputElement, v: number) => {
    Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value')!.set!.call(el, String(v));
    el.dispatchEvent(new Event('input', { bubbles: true }));
  }, value);
}

/** Waits until the text matches (the UI updates after an API answer), then asserts it. */
export async function assertText(locator: Locator, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 30_000;
  let text = '';
  while (Date.now() < deadline) {
    text = ((await locator.first().textContent({ timeout: 30_000 }).catch(() => '')) ?? '').trim();
    if (pattern.test(text)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.match(text, pattern);
}

export async function assertTexts(locator: Locator, expected: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  let texts: string[] = [];
  while (Date.now() < deadline) {
    texts = (await locator.allTextContents()).map((t) => t.trim());
    if (JSON.stringify(texts) === JSON.stringify(expected)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.deepEqual(texts, expected);
}

export async function waitForCount(locator: Locator, n: number): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && (await locator.count()) !== n) await new Promise((r) => setTimeout(r, 100));
  assert.equal(await locator.count(), n);
}
