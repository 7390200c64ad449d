import type { Command } from 'commander';
import type { GroupSummary } from '../../client/index.js';
import { intIn } from '../args.js';
import { emit, table } from '../output.js';
import { globals, withSession } from '../session.js';

export function addGroupsCommands(program: Command): void {
  const groups = program.command('groups').description('create, list, show and delete groups');

  groups
    .command('create <groupId>')
    .description('create a group ([a-z0-9-], up to 255 characters)')
    .action((groupId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        await client.createGroup(groupId);
        emit(opts.json, { groupId }, () => `created group ${groupId}`);
      });
    });

  groups
    .command('list')
    .description('list every group of the app (pages are fetched as needed)')
    .option('--page-size <n>', 'groups per request', intIn(1, 200), 200)
    .action((_o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const all: GroupSummary[] = [];
        for await (const g of client.listGroups({ pageSize: opts.pageSize as number })) all.push(g);
        emit(opts.json, all, (l) => (l.length ? table(['groupId'], l.map((g) => [g.groupId])) : 'no groups'));
      });
    });

  groups
    .command('get <groupId>')
    .alias('show')
    .description("show a group's creation time and face count")
    .action((groupId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const g = await client.getGroup(groupId);
        emit(opts.json, g, () => table(['groupId', 'created (UTC)', 'faces'], [[g.groupId, g.createTime, g.faceCount]]));
      });
    });

  groups
    .command('delete <groupId>')
    .description('delete a group and every face in it')
    .action((groupId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        await client.deleteGroup(groupId);
        emit(opts.json, { groupId, deleted: true }, () => `deleted group ${groupId}`);
      });
    });
}
