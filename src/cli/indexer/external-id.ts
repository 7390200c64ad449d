import { createHash } from 'node:crypto';
import { extname, posix } from 'node:path';

export type ExternalIdSource = 'filename' | 'path';

const MAX_LENGTH = 255;
const NOT_ALLOWED = /[^a-zA-Z0-9_.\-:]/g;

/**
 * The externalImageId of a photo: its file name (or relative path, `/` written as `:`) in NHN's
 * alphabet `[a-zA-Z0-9_.\-:]{1,255}`. A name that had to be changed (spaces, Hangul, …) or cut
 * gets 8 hex digits of a hash of the original, so "김철수.jpg" and "이영희.jpg" do not both
 * become "___.jpg".
 */
export function externalIdFor(rel: string, source: ExternalIdSource): string {
  const name = (source === 'filename' ? posix.basename(rel) : rel.split('/').join(':')).normalize('NFC');
  const clean = name.replace(NOT_ALLOWED, '_');
  if (clean === name && clean.length <= MAX_LENGTH) return clean;
  const hash = createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 8);
  const ext = extname(clean).length <= 10 ? extname(clean) : '';
  const stem = clean.slice(0, clean.length - ext.length).slice(0, MAX_LENGTH - ext.length - hash.length - 1);
  return `${stem}_${hash}${ext}`;
}
