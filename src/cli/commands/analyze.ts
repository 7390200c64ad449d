import { Option, type Command } from 'commander';
import type { DetailOptions, SpoofingCondition } from '../../client/index.js';
import { intIn, SPOOF_CONDITIONS } from '../args.js';
import { readImageArg } from '../image-arg.js';
import { box, DETAIL_HEAD, detailCells, emit, num, table, yesNo } from '../output.js';
import { globals, withSession } from '../session.js';
import { matchTable } from './faces.js';

/** The NHN detail flags as options: orientation and mask on unless turned off, spoofing off unless asked. */
function withDetailOptions(cmd: Command): Command {
  return cmd
    .option('--no-orientation', 'leave out yaw/pitch/roll')
    .option('--no-mask', 'leave out the mask flag')
    .option('--spoofing', 'judge each face live or spoof')
    .addOption(new Option('--spoofing-condition <c>', 'how strict the spoof judgement is').choices(SPOOF_CONDITIONS).default('balanced'));
}

const detailOptions = (o: Record<string, unknown>): DetailOptions => ({
  orientation: o.orientation as boolean,
  mask: o.mask as boolean,
  spoofing: Boolean(o.spoofing),
  spoofingCondition: o.spoofingCondition as SpoofingCondition,
});

export function addAnalyzeCommands(program: Command): void {
  withDetailOptions(program.command('detect <image>').description('find the faces of an image (a file or an http(s) URL)')).action(
    (image: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const r = await client.detect(await readImageArg(image), detailOptions(opts));
        emit(opts.json, r, () => (r.faceDetailCount ? table(['#', ...DETAIL_HEAD], r.faceDetails.map((d, i) => [i + 1, ...detailCells(d)])) : 'no face found'));
      });
    },
  );

  withDetailOptions(
    program
      .command('compare <source> <target>')
      .description('similarity of the largest face of <source> to every face of <target>')
      .option('--threshold <n>', 'similarity (1-100) from which a face matches', intIn(1, 100), 70),
  ).action((source: string, target: string, _o: object, cmd: Command) => {
    const opts = globals(cmd);
    return withSession(opts, async ({ client }) => {
      const r = await client.compare(await readImageArg(source), await readImageArg(target), { threshold: opts.threshold as number, ...detailOptions(opts) });
      emit(opts.json, r, () => {
        const rows = [
          ...r.matchedFaceDetails.map((m) => [num(m.similarity), 'yes', ...detailCells(m.faceDetail)]),
          ...r.unmatchedFaceDetails.map((m) => [num(m.similarity), 'no', ...detailCells(m.faceDetail)]),
        ];
        return rows.length ? table(['similarity', 'match', ...DETAIL_HEAD.map((h) => `target ${h}`)], rows) : 'no face in the target image';
      });
    });
  });

  withDetailOptions(
    program
      .command('search <groupId> <image>')
      .description('find the faces of a group most similar to the largest face of an image')
      .option('--limit <n>', 'most matches to return', intIn(1, 4096), 10)
      .option('--threshold <n>', 'lowest similarity (1-100) to return', intIn(1, 100), 70),
  ).action((groupId: string, image: string, _o: object, cmd: Command) => {
    const opts = globals(cmd);
    return withSession(opts, async ({ client }) => {
      const r = await client.searchByImage(groupId, await readImageArg(image), { limit: opts.limit as number, threshold: opts.threshold as number, ...detailOptions(opts) });
      emit(opts.json, r, () => matchTable(r.matchFaces));
    });
  });

  program
    .command('spoofing <image>')
    .description('judge every face of an image live or a presentation attack (print, replay)')
    .addOption(new Option('--condition <c>', 'how strict the judgement is').choices(SPOOF_CONDITIONS).default('balanced'))
    .option('--aligned', 'the image is one aligned 224x224 face crop')
    .action((image: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const r = await client.spoofing(await readImageArg(image), { spoofingCondition: opts.condition as SpoofingCondition, aligned: Boolean(opts.aligned) });
        emit(opts.json, r, () => (r.faceDetailCount ? table(['#', 'spoof', 'box x0 y0 x1 y1', 'confidence'], r.faceDetails.map((d, i) => [i + 1, yesNo(d.spoofing), box(d.bbox), num(d.confidence, 3)])) : 'no face found'));
      });
    });
}
