/** What the server tells the console before any key is given (GET /console/settings.json). */
export interface ServerSettings {
  /** The upload cap in bytes (FACEREC_MAX_IMAGE_BYTES): bigger photos are shrunk before sending. */
  maxImageBytes: number;
}

/** NHN's cap, for a server too old to say its own. */
const NHN_DEFAULTS: ServerSettings = { maxImageBytes: 3_000_000 };

let settings: Promise<ServerSettings> | undefined;

/** Asked once per page load; a failure falls back to NHN's defaults (the API still refuses what is too big). */
export function serverSettings(): Promise<ServerSettings> {
  settings ??= fetch('/console/settings.json', { cache: 'no-store' })
    .then(async (res) => (res.ok ? { ...NHN_DEFAULTS, ...((await res.json()) as Partial<ServerSettings>) } : NHN_DEFAULTS))
    .catch(() => NHN_DEFAULTS);
  return settings;
}
