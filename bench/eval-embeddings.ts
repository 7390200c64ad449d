/**
 * The lead-face embedding of every eval image (identities/ and distractors/), computed with the
 * engine's worker pool. Cached in the OS temp dir (never in the project) by model version, so
 * bench:persons and bench:clusters analyse the photos once between them.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { EnginePool } from '../src/engine/pool.js';
import { EMBEDDING_SIZE } from '../src/engine/vectors.js';
import { MODEL_VERSION } from '../src/engine/models.js';
import { listImages, type LabelledImage } from './accuracy.js';
import { progress } from './common.js';

export interface EmbeddedImage extends LabelledImage {
  embedding: Float32Array;
}

export async function evalEmbeddings(root: string): Promise<{ embedded: EmbeddedImage[]; noFace: number }> {
  const images = listImages(root);
  const key = createHash('sha256').update(MODEL_VERSION).update(images.map((i) => i.path).join('\n')).digest('hex').slice(0, 16);
  const cache = join(tmpdir(), `facerec-eval-embeddings-${key}.json`);
  let vectors: (number[] | null)[];
  if (existsSync(cache)) {
    vectors = JSON.parse(readFileSync(cache, 'utf8')) as (number[] | null)[];
    console.log(`embeddings: ${images.length} images from the cache ${cache}`);
  } else {
    const pool = new EnginePool({ threads: availableParallelism(), maxQueue: 100_000 });
    await pool.warmup();
    const bar = progress(images.length, 'embedding');
    const t0 = Date.now();
    vectors = await Promise.all(images.map(async (img) => {
      const r = await pool.analyze(readFileSync(join(root, img.path)), { embed: true, maxFaces: 1 });
      bar.tick();
      const e = r.faces[0]?.embedding;
      return e ? Array.from(e) : null;
    }));
    bar.stop();
    await pool.close();
    console.log(`embeddings: analysed ${images.length} images in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
    writeFileSync(cache, JSON.stringify(vectors));
  }
  const embedded: EmbeddedImage[] = [];
  let noFace = 0;
  images.forEach((img, i) => {
    const v = vectors[i];
    if (v && v.length === EMBEDDING_SIZE) embedded.push({ ...img, embedding: Float32Array.from(v) });
    else noFace++;
  });
  return { embedded, noFace };
}
