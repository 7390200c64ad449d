import type { Command } from 'commander';
import type { ClusterJob, FindPhotosResult, Person } from '../../client/index.js';
import { intIn } from '../args.js';
import { readImageArg } from '../image-arg.js';
import { box, CliError, emit, num, table } from '../output.js';
import { globals, withSession } from '../session.js';

/** Persons, clustering and album search: facerec's `/x/v1` extension (docs/persons.md). */

const PERSON_HEAD = ['personId', 'name', 'faces', 'updated'];
const personRows = (persons: Person[]) => persons.map((p) => [p.personId, p.name ?? '', p.faceCount, p.updateTime]);

function metadataOption(text: string | undefined): Record<string, unknown> | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
  } catch {
    // the error below
  }
  throw new CliError('--metadata must be a JSON object, e.g. \'{"team":"blue"}\'', 2);
}

export const photoTable = (r: FindPhotosResult) =>
  r.photos.length
    ? table(['externalImageId', 'imageId', 'best similarity', 'face boxes x0 y0 x1 y1'], r.photos.map((p) => [p.externalImageId ?? '', p.imageId, num(Math.max(...p.faces.map((f) => f.similarity))), p.faces.map((f) => box(f.bbox)).join(' | ')]))
    : 'no photo of this person';

const clusterSummary = (job: ClusterJob) => {
  const lines = [`job ${job.jobId}: ${job.state}, ${job.faceCount ?? 0} faces, ${job.clusterCount ?? 0} clusters, ${job.unclusteredFaceIds?.length ?? 0} unclustered`];
  if (job.error) lines.push(job.error);
  if (job.clusters?.length) lines.push(table(['clusterId', 'faces', 'representativeFaceId'], job.clusters.map((c) => [c.clusterId, c.faceCount, c.representativeFaceId])));
  return lines.join('\n');
};

export function addPersonsCommands(program: Command): void {
  const persons = program.command('persons').description('persons of a group: named sets of its faces; search and verify against them (facerec extension)');

  persons
    .command('create <groupId>')
    .description('create a person')
    .option('--name <name>', 'the person\'s name')
    .option('--metadata <json>', 'a JSON object to keep with the person (≤ 4 KB)')
    .action((groupId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const p = await client.createPerson(groupId, { name: opts.name as string | undefined, metadata: metadataOption(opts.metadata as string | undefined) });
        emit(opts.json, p, () => table(PERSON_HEAD, personRows([p])));
      });
    });

  persons
    .command('list <groupId>')
    .description('list the persons of a group, oldest first')
    .action((groupId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const list: Person[] = [];
        for await (const p of client.listPersons(groupId)) list.push(p);
        emit(opts.json, list, (l) => (l.length ? table(PERSON_HEAD, personRows(l)) : 'no persons'));
      });
    });

  persons
    .command('show <groupId> <personId>')
    .description('a person and its faceIds')
    .action((groupId: string, personId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const p = await client.getPerson(groupId, personId);
        emit(opts.json, p, () => [table(PERSON_HEAD, personRows([p])), ...p.faceIds].join('\n'));
      });
    });

  persons
    .command('update <groupId> <personId>')
    .description('change a person\'s name or metadata ("" clears the name, {} the metadata)')
    .option('--name <name>', 'new name')
    .option('--metadata <json>', 'new metadata, a JSON object')
    .action((groupId: string, personId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const p = await client.updatePerson(groupId, personId, { name: opts.name as string | undefined, metadata: metadataOption(opts.metadata as string | undefined) });
        emit(opts.json, p, () => table(PERSON_HEAD, personRows([p])));
      });
    });

  persons
    .command('delete <groupId> <personId>')
    .description('delete a person; its faces stay in the group unless --with-faces')
    .option('--with-faces', 'also delete the person\'s faces', false)
    .action((groupId: string, personId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const r = await client.deletePerson(groupId, personId, { deleteFaces: opts.withFaces as boolean });
        emit(opts.json, r, () => `deleted the person and ${r.deletedFaceCount} face(s)`);
      });
    });

  persons
    .command('add-faces <groupId> <personId> <faceId...>')
    .description('associate faces of the group with a person (a face belongs to one person at most)')
    .action((groupId: string, personId: string, faceIds: string[], _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const p = await client.associateFaces(groupId, personId, faceIds);
        emit(opts.json, p, () => table(PERSON_HEAD, personRows([p])));
      });
    });

  persons
    .command('remove-faces <groupId> <personId> <faceId...>')
    .description('take faces away from a person (they stay in the group)')
    .action((groupId: string, personId: string, faceIds: string[], _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const r = await client.disassociateFaces(groupId, personId, faceIds);
        emit(opts.json, r, () => `removed ${r.disassociatedFaceIds.length} face(s) from the person`);
      });
    });

  persons
    .command('register <groupId> <image...>')
    .description('register the largest face of each image (files or URLs, up to 10) as one person')
    .option('--name <name>', 'the new person\'s name')
    .option('--metadata <json>', 'a JSON object to keep with the person')
    .option('--person <personId>', 'add the faces to this existing person instead')
    .option('--external-id <id>', 'externalImageId to store with the faces')
    .action((groupId: string, images: string[], _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const bytes = await Promise.all(images.map((i) => readImageArg(i)));
        const r = await client.registerPerson(groupId, bytes, {
          name: opts.name as string | undefined,
          metadata: metadataOption(opts.metadata as string | undefined),
          personId: opts.person as string | undefined,
          externalImageId: opts.externalId as string | undefined,
        });
        emit(opts.json, r, () => [
          table(PERSON_HEAD, personRows([r.person])),
          table(['image', 'faceId or error'], r.images.map((i) => [images[i.index], 'faceId' in i ? i.faceId : `${i.error.resultCode} ${i.error.detail}`])),
        ].join('\n'));
      });
    });

  persons
    .command('search <groupId> <image>')
    .description('the persons most like the largest face of an image (best of each person\'s faces)')
    .option('--limit <n>', 'most persons to return', intIn(1, 100), 10)
    .option('--threshold <n>', 'lowest similarity (1-100)', intIn(1, 100), 80)
    .action((groupId: string, image: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const r = await client.searchPersons(groupId, await readImageArg(image), { limit: opts.limit as number, threshold: opts.threshold as number });
        emit(opts.json, r, () => (r.persons.length ? table(['similarity', 'personId', 'name', 'best faceId'], r.persons.map((m) => [num(m.similarity), m.person.personId, m.person.name ?? '', m.face.faceId])) : 'no person at this threshold'));
      });
    });

  persons
    .command('verify <groupId> <personId> <image>')
    .description('similarity (0-100) of the largest face of an image to a person (best of its faces)')
    .action((groupId: string, personId: string, image: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const r = await client.verifyPerson(groupId, personId, await readImageArg(image));
        emit(opts.json, r, () => table(['similarity', 'personId', 'best faceId'], [[num(r.similarity), r.person.personId, r.face.faceId]]));
      });
    });

  program
    .command('photos <groupId>')
    .description('album search: every photo of a person in a group, by --person or by --image (facerec extension)')
    .option('--person <personId>', 'the person')
    .option('--image <file>', 'a photo of the person instead (file or URL)')
    .option('--threshold <n>', 'lowest similarity (1-100)', intIn(1, 100), 80)
    .option('--limit <n>', 'most photos to return', intIn(1, 1000), 100)
    .action((groupId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        if ((opts.person === undefined) === (opts.image === undefined)) throw new CliError('give either --person or --image', 2);
        const query = opts.person !== undefined ? { personId: opts.person as string } : { image: await readImageArg(opts.image as string) };
        const r = await client.findPhotos(groupId, query, { threshold: opts.threshold as number, limit: opts.limit as number });
        emit(opts.json, r, () => photoTable(r));
      });
    });

  program
    .command('cluster <groupId>')
    .description('cluster the faces of a group into identities and wait for the result (facerec extension)')
    .option('--threshold <n>', 'mean similarity at which two clusters merge (1-100)', intIn(1, 100), 80)
    .option('--attach-threshold <n>', 'similarity at which a face left alone joins a cluster (1-100; default: the threshold, i.e. no attach step)', intIn(1, 100))
    .option('--to-persons', 'make a person of every cluster', false)
    .action((groupId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const started = await client.startClustering(groupId, { threshold: opts.threshold as number, attachThreshold: opts.attachThreshold as number });
        let shown = -1;
        const job = await client.waitForClustering(groupId, started.jobId, {
          onProgress: (j) => {
            if (!opts.json && process.stderr.isTTY && j.percent !== shown) process.stderr.write(`\rclustering: ${(shown = j.percent)} %`);
          },
        });
        if (!opts.json && process.stderr.isTTY) process.stderr.write('\n');
        if (job.state !== 'succeeded') throw new CliError(`the clustering job failed: ${job.error ?? 'no reason given'}`, 1);
        const made: Person[] = [];
        if (opts.toPersons) for (const c of job.clusters ?? []) made.push(await client.clusterToPerson(groupId, job.jobId, c.clusterId, { name: `cluster ${c.clusterId}` }));
        emit(opts.json, { ...job, persons: made }, () => [clusterSummary(job), ...(made.length ? [`made ${made.length} person(s)`] : [])].join('\n'));
      });
    });
}
