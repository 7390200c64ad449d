/**
 * NHN's cap on one image (after base64 decoding, a multipart file, or a download). The operator
 * may change it (FACEREC_MAX_IMAGE_BYTES); this is the default, and the figure docs quote.
 */
export const DEFAULT_MAX_IMAGE_BYTES = 3_000_000;

/** The quotas and page sizes the domain enforces; the operator may raise the first two (config.ts). */
export interface DomainLimits {
  maxFacesPerGroup: number;
  maxGroupsPerApp: number;
  /** Faces returned by detect and registered per call (NHN: 20). */
  maxFacesPerImage: number;
  maxListLimit: number;
  maxSearchLimit: number;
}

export const DEFAULT_LIMITS: DomainLimits = {
  maxFacesPerGroup: 100_000,
  maxGroupsPerApp: 10_000,
  maxFacesPerImage: 20,
  maxListLimit: 200,
  maxSearchLimit: 4096,
};
