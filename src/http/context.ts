import type { Apps } from '../domain/apps.js';
import type { FaceService } from '../domain/service.js';

/** What the HTTP adapters need: one domain API, the app registry, and the upload cap. */
export interface HttpContext {
  service: FaceService;
  apps: Apps;
  maxImageBytes: number;
}
