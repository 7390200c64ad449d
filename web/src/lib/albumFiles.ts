/**
 * The user's own photos, matched to album-search answers by externalImageId. facerec keeps no
 * images (docs/persons.md), so the gallery shows files the user picks in this browser; they are
 * read locally and never uploaded.
 *
 * A photo's externalImageId is whatever registered it chose. The ones this matches:
 * - `facerec index --external-id-from filename|path` (src/cli/indexer/external-id.ts): the file
 *   name, or the path inside the indexed folder with `/` written as `:`, in NHN's alphabet
 *   `[a-zA-Z0-9_.\-:]`; a name that had to change gets `_` + 8 hex digits of its SHA-256;
 * - the console's register (pages/group/RegisterPanel): the file name with other characters as `_`;
 * - the file name exactly as it is.
 */
const NOT_ALLOWED = /[^a-zA-Z0-9_.\-:]/g;
const MAX_LENGTH = 255;

export const isImageFile = (f: File) => /^image\/(jpeg|png)$/.test(f.type) || /\.(jpe?g|png)$/i.test(f.name);

/** The console's own rule (RegisterPanel): a file name cleaned, no hash. */
export const externalIdFromFileName = (name: string) => name.replace(NOT_ALLOWED, '_').slice(0, MAX_LENGTH);

/** The CLI's rule for one name (file name, or relative path with `:`); null where it needs a hash and this page cannot make one. */
async function cliExternalId(name: string): Promise<string | null> {
  const nfc = name.normalize('NFC');
  const clean = nfc.replace(NOT_ALLOWED, '_');
  if (clean === nfc && clean.length <= MAX_LENGTH) return clean;
  // crypto.subtle exists on https and on localhost only: elsewhere such names match by the other rules.
  if (!globalThis.crypto?.subtle) return null;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(nfc)));
  const hash = [...digest.slice(0, 4)].map((b) => b.toString(16).padStart(2, '0')).join('');
  const dot = clean.lastIndexOf('.');
  const ext = dot > 0 && clean.length - dot <= 10 ? clean.slice(dot) : '';
  const stem = clean.slice(0, clean.length - ext.length).slice(0, MAX_LENGTH - ext.length - hash.length - 1);
  return `${stem}_${hash}${ext}`;
}

/** Every externalImageId the file may have been registered under. */
export async function externalIdsOf(file: File): Promise<string[]> {
  const ids = new Set<string>([file.name, externalIdFromFileName(file.name)]);
  const byName = await cliExternalId(file.name);
  if (byName) ids.add(byName);
  // A folder pick gives "album/2024/x.jpg": the CLI indexed "./album", so its path is "2024/x.jpg".
  const rel = file.webkitRelativePath.split('/').slice(1).join('/');
  if (rel && rel !== file.name) {
    const byPath = await cliExternalId(rel);
    if (byPath) ids.add(byPath);
  }
  return [...ids];
}

/** externalImageId → the picked file; the first file wins when two claim one id. */
export async function indexAlbum(files: File[]): Promise<Map<string, File>> {
  const byId = new Map<string, File>();
  for (const f of files.filter(isImageFile)) {
    for (const id of await externalIdsOf(f)) if (!byId.has(id)) byId.set(id, f);
  }
  return byId;
}
