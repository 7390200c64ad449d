import type { Config } from './config.js';
import { Apps } from './domain/apps.js';
import { ImageReader, type UrlFetcher } from './domain/images.js';
import { PageTokens } from './domain/page-tokens.js';
import { FaceService } from './domain/service.js';
import type { FaceAnalyzer } from './engine/analyzer.js';
import { EMBEDDING_SIZE } from './engine/vectors.js';
import { ExactFaceSearch } from './index/exact-face-search.js';
import { fetchImage } from './net/image-fetch.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

export interface Runtime {
  service: FaceService;
  apps: Apps;
  store: Store;
  close(): Promise<void>;
}

/** Downloads under the operator's size, time and address rules; the domain names the failures. */
export function urlFetcher(config: Pick<Config, 'maxImageBytes' | 'allowPrivateUrls' | 'urlTimeoutMs'>): UrlFetcher {
  return (url) => fetchImage(url, { maxBytes: config.maxImageBytes, timeoutMs: config.urlTimeoutMs, allowPrivateAddresses: config.allowPrivateUrls });
}

/** Wires store, index, engine and domain together; every transport starts from here. */
export function createRuntime(config: Config, analyzer: FaceAnalyzer): Runtime {
  const store = SqliteStore.open(config.dataDir, { masterKey: config.masterKey });
  const images = new ImageReader(analyzer, urlFetcher(config), config.maxImageBytes);
  const faceSearch = new ExactFaceSearch(store, EMBEDDING_SIZE);
  // Signed with a key derived from the master key, so tokens survive restarts and work across nodes.
  const tokens = new PageTokens(store.tokenSecret(), config.pageTokenTtlMs);
  const service = new FaceService(store, images, faceSearch, tokens, analyzer.modelVersion, config.limits);
  return { service, apps: new Apps(store), store, close: async () => {
    await faceSearch.close();
    await store.close();
  } };
}
