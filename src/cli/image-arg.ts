import { readFile } from 'node:fs/promises';
import type { ImageSource } from '../client/index.js';
import { CliError } from './output.js';

/** An image argument: an http(s) URL is passed to the server to download; anything else is a file. */
export async function readImageArg(arg: string): Promise<ImageSource> {
  if (/^https?:\/\//i.test(arg)) return { url: arg };
  try {
    return new Uint8Array(await readFile(arg));
  } catch (e) {
    throw new CliError(`cannot read image ${arg}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
