import { join } from 'node:path';
import type { Command } from 'commander';
import type { Apps } from '../../domain/apps.js';
import { CliError, emit, table } from '../output.js';
import { configFrom, globals, type GlobalOptions } from '../session.js';

/** Apps are managed on the data dir directly: the NHN API has no operation for them. */
async function withApps<T>(opts: GlobalOptions, fn: (apps: Apps) => Promise<T>): Promise<T> {
  const config = configFrom(opts);
  // Imported on use, so that commands against a remote server never load SQLite.
  const [{ Apps }, { SqliteStore }, { INDEX_DIR, SnapshotFiles }, { groupName }] = await Promise.all([
    import('../../domain/apps.js'),
    import('../../store/sqlite-store.js'),
    import('../../index/ann/snapshot-files.js'),
    import('../../index/ann/ann-face-search.js'),
  ]);
  const store = SqliteStore.open(config.dataDir, { masterKey: config.masterKey });
  try {
    // A deleted app's groups take their search-graph snapshots with them.
    const snapshots = new SnapshotFiles(join(config.dataDir, INDEX_DIR), store.indexSecret());
    return await fn(new Apps(store, (group) => snapshots.remove(groupName(group))));
  } finally {
    await store.close();
  }
}

export function addAppsCommands(program: Command): void {
  const apps = program.command('apps').description('manage apps (tenants) and their keys, on the data dir');
  apps
    .command('create')
    .description('create an app and print its appKey and secretKey (the secret is shown only now)')
    .action((_o: object, cmd: Command) =>
      withApps(globals(cmd), async (a) => {
        const keys = await a.create();
        // Always JSON, as before --json existed: the keys are there to be copied or parsed.
        process.stdout.write(JSON.stringify(keys, null, 2) + '\n');
      }),
    );
  apps
    .command('list')
    .description('list app keys')
    .action((_o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withApps(opts, async (a) => {
        const list = (await a.list()).map((app) => ({ appKey: app.appKey, createTime: app.createTime.toISOString() }));
        emit(opts.json, list, (l) => (l.length ? table(['appKey', 'created'], l.map((x) => [x.appKey, x.createTime])) : 'no apps'));
      });
    });
  apps
    .command('delete <appKey>')
    .description('delete an app with all its groups and faces')
    .action((appKey: string, _o: object, cmd: Command) =>
      withApps(globals(cmd), async (a) => {
        if (!(await a.delete(appKey))) throw new CliError(`no app ${appKey}`, 1);
      }),
    );
}
