import { Command } from 'commander';
import { loadConfig } from '../config.js';
import { serve } from '../serve.js';
import { Apps } from '../domain/apps.js';
import { SqliteStore } from '../store/sqlite-store.js';

/** Runs `fn` with the app registry of the configured data dir, then closes the store. */
async function withApps<T>(fn: (apps: Apps) => Promise<T>): Promise<T> {
  const config = loadConfig();
  const store = SqliteStore.open(config.dataDir, { masterKey: config.masterKey });
  try {
    return await fn(new Apps(store));
  } finally {
    await store.close();
  }
}

const program = new Command().name('facerec').description('Self-hosted face recognition (NHN Cloud Face Recognition API compatible)');

program
  .command('serve')
  .description('start the HTTP API (same as npm start); settings come from the environment')
  .action(() => serve(loadConfig()));

const apps = program.command('apps').description('manage apps (tenants) and their keys');
apps
  .command('create')
  .description('create an app and print its appKey and secretKey (the secret is shown only now)')
  .action(() =>
    withApps(async (a) => {
      const keys = await a.create();
      console.log(JSON.stringify(keys, null, 2));
    }),
  );
apps
  .command('list')
  .description('list app keys')
  .action(() =>
    withApps(async (a) => {
      for (const app of await a.list()) console.log(`${app.appKey}\t${app.createTime.toISOString()}`);
    }),
  );
apps
  .command('delete <appKey>')
  .description('delete an app with all its groups and faces')
  .action((appKey: string) =>
    withApps(async (a) => {
      if (!(await a.delete(appKey))) {
        console.error(`no app ${appKey}`);
        process.exitCode = 1;
      }
    }),
  );

await program.parseAsync(process.argv);
