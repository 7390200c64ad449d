/**
 * The server's resultMessage is NHN's symbolic name only (e.g. "InvalidGroupID"); facerec adds
 * the reason in header.detail. When an answer has none, a short hint tells the user what the
 * code usually means. Codes: docs/api-compatibility.md.
 */
const HINTS: Record<number, string> = {
  [-40000]: 'a parameter is invalid — or no face was found where one is needed (search, verify, compare source)',
  [-40010]: 'group ids use lower-case letters, digits and "-" only (1–255 characters)',
  [-40020]: 'a group with this id already exists',
  [-40030]: 'no such group',
  [-40040]: 'the page token is invalid or expired — go back to the first page',
  [-40050]: 'no such face in this group',
  [-40070]: 'quota reached (faces per group or groups per app)',
  [-41000]: 'the appKey is not valid',
  [-41005]: 'the appKey or secretKey is not valid',
  [-45020]: "the image is over the server's upload limit (3,000,000 bytes unless FACEREC_MAX_IMAGE_BYTES says otherwise)",
  [-45030]: 'the image is empty or not valid base64',
  [-45040]: 'only JPEG and PNG images are accepted',
  [-45050]: 'the image URL is refused',
  [-45060]: 'the image download timed out',
  [-45070]: 'the image is too small (under 80 px a side) or too large',
  [-45080]: 'the image file is damaged and does not decode',
  [-50000]: 'the server failed or is busy — try again',
};

export const resultHint = (code: number): string | undefined => HINTS[code];
