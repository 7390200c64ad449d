import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { DEFAULT_MAX_IMAGE_BYTES } from '../domain/limits.js';

export interface ConsoleOptions {
  /** The built web app (web/dist); defaults to the package's own. */
  root?: string;
  /** The server's upload cap, told to the console so it can shrink bigger photos before sending. */
  maxImageBytes?: number;
}

/** What the console needs to know about this server before the user gives any key. */
export interface ConsoleSettings {
  maxImageBytes: number;
}

export const CONSOLE_SETTINGS_PATH = '/console/settings.json';

export const CONSOLE_PREFIX = '/console';

/** The console's routes serve files, not the API: @fastify/swagger leaves them out of /docs. */
const NOT_IN_API_DOCS = { hide: true };

/**
 * The web console's page may hold the user's secretKey (sessionStorage), so it only runs its own
 * scripts, talks only to this origin and cannot be framed. Inline styles: React sets `style`.
 */
const SECURITY_HEADERS = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; connect-src 'self'; " +
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

/**
 * Serves the web console (web/, built by `npm run build:web`, which `npm install` runs) at
 * /console/. It is static files, plus the settings the page reads before any key is given
 * (/console/settings.json): the app talks to the public v2.0 API like any client.
 * Without a build (e.g. `npm ci --omit=dev`, where Vite is not installed) /console says so.
 */
export async function webConsole(app: FastifyInstance, { root = defaultConsoleRoot(), maxImageBytes = DEFAULT_MAX_IMAGE_BYTES }: ConsoleOptions = {}): Promise<void> {
  app.addHook('onRequest', async (_req, reply) => {
    reply.headers(SECURITY_HEADERS);
  });

  // Unauthenticated like the page itself: it holds no key and nothing about any app.
  const settings: ConsoleSettings = { maxImageBytes };
  app.get(CONSOLE_SETTINGS_PATH, { schema: NOT_IN_API_DOCS }, async (_req, reply) => reply.header('cache-control', 'no-cache').send(settings));

  if (!existsSync(join(root, 'index.html'))) {
    app.log.warn({ root }, 'web console is not built: run `npm run build:web`');
    const missing = async (_req: unknown, reply: FastifyReply) =>
      reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send(
          'The facerec web console is not built.\n\n' +
            'Run `npm run build:web` (it needs the devDependencies vite and react, which `npm ci --omit=dev` leaves out) and reload.\n' +
            'The API itself works without it.\n',
        );
    app.get(CONSOLE_PREFIX, { schema: NOT_IN_API_DOCS }, missing);
    app.get(`${CONSOLE_PREFIX}/*`, { schema: NOT_IN_API_DOCS }, missing);
    return;
  }

  // The page itself. The server ignores trailing slashes, so this route is /console and /console/
  // (the static wildcard below never sees /console/). Vite's asset URLs are absolute: both work.
  const indexFile = join(root, 'index.html');
  app.get(CONSOLE_PREFIX, { schema: NOT_IN_API_DOCS }, async (_req, reply) => reply.header('cache-control', 'no-cache').type('text/html; charset=utf-8').send(await readFile(indexFile)));

  await app.register(fastifyStatic, {
    root,
    prefix: `${CONSOLE_PREFIX}/`,
    // Other plugins (e.g. Swagger UI) may register @fastify/static too; do not claim reply.sendFile.
    decorateReply: false,
    schemaHide: true,
    // Reached only if the server stops ignoring trailing slashes: then /console/ lands here.
    index: 'index.html',
    cacheControl: false,
    setHeaders: (reply, path) => {
      // Vite puts a content hash in every asset name: cache those forever, never the page itself.
      const immutable = relative(root, path).startsWith(`assets${sep}`);
      reply.header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    },
  });
}

/** web/dist beside the package.json of this package, from src/http (tsx) or dist/src/http (tsc output). */
export function defaultConsoleRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return join(dir, 'web', 'dist');
}
