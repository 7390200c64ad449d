import type { Command } from 'commander';
import type { Face, FaceMatch } from '../../client/index.js';
import { intIn } from '../args.js';
import { readImageArg } from '../image-arg.js';
import { box, DETAIL_HEAD, detailCells, emit, num, table } from '../output.js';
import { globals, withSession } from '../session.js';

const faceRows = (faces: Face[]) => faces.map((f) => [f.faceId, f.imageId, f.externalImageId ?? '', box(f.bbox), num(f.confidence, 3)]);
const FACE_HEAD = ['faceId', 'imageId', 'externalImageId', 'box x0 y0 x1 y1', 'confidence'];

/** Search results as a table; shared with the top-level `search` command. */
export const matchTable = (matches: FaceMatch[]) =>
  matches.length
    ? table(['similarity', 'faceId', 'externalImageId', 'imageId'], matches.map((m) => [num(m.similarity), m.face.faceId, m.face.externalImageId ?? '', m.face.imageId]))
    : 'no match at this threshold';

export function addFacesCommands(program: Command): void {
  const faces = program.command('faces').description('register, list, delete, search and verify faces of a group');

  faces
    .command('add <groupId> <image>')
    .alias('register')
    .description('register the largest faces of an image (a file or an http(s) URL)')
    .option('--limit <n>', 'faces to register from the image, largest first', intIn(1, 20), 1)
    .option('--external-id <id>', 'externalImageId to store with the faces ([a-zA-Z0-9_.\\-:], ≤255)')
    .option('--consent-ref <text>', 'reference to the consent the photo was collected under, stored with the faces (facerec extension)')
    .option('--purpose <text>', 'what the faces are processed for, as the consent states it (facerec extension)')
    .action((groupId: string, image: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const options = { limit: opts.limit as number, externalImageId: opts.externalId as string | undefined };
        const consent = { consentRef: opts.consentRef as string | undefined, purpose: opts.purpose as string | undefined };
        const img = await readImageArg(image);
        // Consent goes through the privacy extension's register; without it, NHN's own route.
        const r = consent.consentRef !== undefined || consent.purpose !== undefined ? await client.registerFacesWithConsent(groupId, img, { ...options, ...consent }) : await client.registerFaces(groupId, img, options);
        emit(opts.json, r, () => {
          const lines = [`added ${r.addedFaceCount} face(s), not added ${r.notAddedFaceCount}`];
          if (r.resultCode !== 0) lines.push(`partial success: ${r.resultMessage} (resultCode ${r.resultCode}): the group is full`);
          if (r.addedFaceCount) lines.push(table(FACE_HEAD, faceRows(r.addedFaces)));
          return lines.join('\n');
        });
      });
    });

  faces
    .command('list <groupId>')
    .description("list a group's faces, newest first")
    .option('--external-id <id>', 'only faces with this externalImageId')
    .option('--image-id <id>', 'only faces of this imageId')
    .option('--face-id <id>', 'only this face')
    .option('--max <n>', 'stop after this many faces', intIn(1, Number.MAX_SAFE_INTEGER))
    .option('--page-size <n>', 'faces per request', intIn(1, 200), 200)
    .action((groupId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const list: Face[] = [];
        const filter = { externalImageId: opts.externalId as string | undefined, imageId: opts.imageId as string | undefined, faceId: opts.faceId as string | undefined };
        for await (const f of client.listFaces(groupId, { ...filter, pageSize: opts.pageSize as number })) {
          list.push(f);
          if (opts.max !== undefined && list.length >= (opts.max as number)) break;
        }
        emit(opts.json, list, (l) => (l.length ? table(FACE_HEAD, faceRows(l)) : 'no faces'));
      });
    });

  faces
    .command('delete <groupId> <faceId...>')
    .description('delete faces from a group')
    .action((groupId: string, faceIds: string[], _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        for (const faceId of faceIds) await client.deleteFace(groupId, faceId);
        emit(opts.json, { groupId, deleted: faceIds }, () => `deleted ${faceIds.length} face(s)`);
      });
    });

  faces
    .command('search <groupId> <faceId>')
    .description('find the faces of a group most similar to a stored face (the face itself is left out)')
    .option('--limit <n>', 'most matches to return', intIn(1, 4096), 10)
    .option('--threshold <n>', 'lowest similarity (1-100) to return', intIn(1, 100), 70)
    .action((groupId: string, faceId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const r = await client.searchByFaceId(groupId, faceId, { limit: opts.limit as number, threshold: opts.threshold as number });
        emit(opts.json, r, () => matchTable(r.matchFaces));
      });
    });

  faces
    .command('verify <groupId> <faceId> <image>')
    .description('similarity (0-100) of the largest face of an image to one stored face')
    .action((groupId: string, faceId: string, image: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const r = await client.verify(groupId, faceId, await readImageArg(image));
        emit(opts.json, r, () => table(['similarity', 'faceId', ...DETAIL_HEAD.map((h) => `image ${h}`)], [[num(r.similarity), r.face.faceId, ...detailCells(r.sourceFace)]]));
      });
    });
}
