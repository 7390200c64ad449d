/**
 * Verify and search against persons (docs/persons.md): a person's score for a probe is the best
 * of its faces (best-of) or the cosine with the mean of its faces (fused). Measured on the eval
 * identities with 3 or more photos: each photo in turn is the probe, the identity's other photos
 * are its person, and every other identity's person is an impostor.
 *
 *   npm run bench:persons
 */
import { availableParallelism, cpus } from 'node:os';
import { cosine } from '../src/engine/vectors.js';
import { toSimilarity } from '../src/engine/similarity.js';
import { eer, sortedScores, tarAtFar } from './accuracy.js';
import { evalDir, pct, printHeader, table } from './common.js';
import { evalEmbeddings } from './eval-embeddings.js';

function mean(vs: Float32Array[]): Float32Array {
  const m = new Float32Array(vs[0].length);
  for (const v of vs) for (let i = 0; i < m.length; i++) m[i] += v[i];
  let n = 0;
  for (const x of m) n += x * x;
  const s = 1 / Math.sqrt(n);
  for (let i = 0; i < m.length; i++) m[i] *= s;
  return m;
}

async function main(): Promise<void> {
  const root = evalDir();
  printHeader('Persons: best-of against fused scoring, verify (1:1) and search (1:N)');
  console.log(`machine: ${cpus()[0]?.model ?? 'unknown CPU'}, ${availableParallelism()} cores\n`);
  const { embedded } = await evalEmbeddings(root);
  const byLabel = new Map<string, Float32Array[]>();
  for (const e of embedded) if (e.path.startsWith('identities/')) byLabel.set(e.label, [...(byLabel.get(e.label) ?? []), e.embedding]);
  const people = [...byLabel.entries()].filter(([, v]) => v.length >= 3);
  const probes = people.reduce((n, [, v]) => n + v.length, 0);
  console.log(`\n${people.length} identities with ≥ 3 photos, ${probes} probes (each photo against its identity's other photos and every other identity)\n`);
  const methods = {
    'best-of': (probe: Float32Array, faces: Float32Array[]) => Math.max(...faces.map((f) => cosine(probe, f))),
    fused: (probe: Float32Array, faces: Float32Array[]) => cosine(probe, mean(faces)),
  };
  const rows: (string | number)[][] = [];
  for (const [name, score] of Object.entries(methods)) {
    const genuine: number[] = [];
    const impostor: number[] = [];
    let rank1 = 0;
    for (const [label, photos] of people) {
      for (let p = 0; p < photos.length; p++) {
        const probe = photos[p];
        const own = score(probe, photos.filter((_, i) => i !== p));
        genuine.push(own);
        let beaten = false;
        for (const [other, theirs] of people) {
          if (other === label) continue;
          const s = score(probe, theirs);
          impostor.push(s);
          if (s >= own) beaten = true;
        }
        if (!beaten) rank1++;
      }
    }
    const gen = sortedScores(genuine);
    const imp = sortedScores(impostor);
    const at = (far: number) => {
      const r = tarAtFar(gen, imp, far);
      return r ? `${pct(r.tar)} (similarity ${toSimilarity(r.threshold).toFixed(1)})` : 'n/a';
    };
    const e = eer(gen, imp);
    rows.push([name, genuine.length, impostor.length, at(1e-2), at(1e-3), pct(e.eer), pct(rank1 / genuine.length)]);
  }
  console.log(table(['person score', 'genuine', 'impostor', 'TAR @ FAR 1e-2', 'TAR @ FAR 1e-3', 'EER', 'rank-1 search'], rows));
}

await main();
