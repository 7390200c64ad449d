import type { AddressInfo } from 'node:net';
import { CONSOLE_PREFIX } from './http/console.js';
import { DOCS_PREFIX } from './http/openapi.js';

/** Where a person starts: what the start-up banner lists. */
export interface ServiceUrls {
  console: string;
  docs: string;
  v2: string;
  v1: string;
}

/**
 * The URLs a person can open, from the address the server listens on. A wildcard address
 * (0.0.0.0, ::) is not somewhere a browser can go: it is shown as localhost.
 */
export function serviceUrls(address: AddressInfo): ServiceUrls {
  const wildcard = address.address === '0.0.0.0' || address.address === '::';
  const host = wildcard ? 'localhost' : address.family === 'IPv6' ? `[${address.address}]` : address.address;
  const origin = `http://${host}:${address.port}`;
  return {
    console: `${origin}${CONSOLE_PREFIX}/`,
    docs: `${origin}${DOCS_PREFIX}`,
    v2: `${origin}/v2.0/appkeys/{appKey}/…`,
    v1: `${origin}/nhn-face-reco/v1.0/appkeys/{appKey}/…`,
  };
}

/**
 * Printed once, when the server is ready, on stdout beside the logs (not through the logger: a
 * person reads it, whatever the log format). The keys of a first start are printed when they
 * are made (serve.ts), before anything can fail and lose them.
 */
export function readyBanner(urls: ServiceUrls): string {
  return (
    `\nfacerec is ready.\n` +
    `  console   ${urls.console}\n` +
    `  API docs  ${urls.docs}\n` +
    `  API v2.0  ${urls.v2}\n` +
    `  API v1.0  ${urls.v1}\n\n`
  );
}

/** The first start's keys: printed once, there is no other way to learn the secret. */
export function firstAppBanner(keys: { appKey: string; secretKey: string }): string {
  return (
    `\nfacerec: created the first app. Keep these keys; the secret key is not shown again.\n` +
    `  appKey:    ${keys.appKey}\n  secretKey: ${keys.secretKey}\n` +
    `More apps: npx facerec apps create\n\n`
  );
}
