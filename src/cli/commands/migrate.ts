import { resolve } from 'node:path';
import type { Command } from 'commander';
import { CliError, emit } from '../output.js';
import { configFrom, globals } from '../session.js';
import { ExitCode } from '../exit-codes.js';

interface MigrateOpts {
  from?: string;
  to?: string;
  batch: string;
  verifySample: string;
}

const positiveInt = (name: string, raw: string, min: number) => {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new CliError(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return n;
};

/** `facerec migrate --from <data dir> --to postgres://…` (README "PostgreSQL mode"). */
export function addMigrateCommand(program: Command): void {
  program
    .command('migrate')
    .description('copy a SQLite data dir (apps, groups, faces, vectors) into a PostgreSQL database; resumable, verified at the end')
    .option('--from <dir>', 'the data dir to copy (default: --data-dir, FACEREC_DATA_DIR or ./data)')
    .option('--to <url>', 'the postgres:// URL to copy into (default: FACEREC_DATABASE_URL)')
    .option('--batch <n>', 'faces per transaction', '1000')
    .option('--verify-sample <n>', 'faces whose search by faceId is compared on both sides at the end (0: counts only)', '100')
    .addHelpText('after', `
Stop the server on the data dir first: faces it adds or deletes during the copy are not
followed (the verification at the end would report the difference). The data dir is only read
(its schema is brought up to date, as a server start does); FACEREC_MASTER_KEY or the data
dir's master.key decrypts the vectors, which PostgreSQL stores in plaintext (docs/security.md).

Copied: apps with their keys (clients keep their appKey and secretKey), groups (model version,
creation time), faces with their faceId, imageId, externalImageId and time, consent records,
retention periods, the audit log (its hash chain continues), the page-token secret, persons
with their faces and clustering jobs. Not copied: search-graph
snapshots (PostgreSQL searches by itself). Quotas are settings (FACEREC_MAX_FACES_PER_GROUP,
FACEREC_MAX_GROUPS): give the PostgreSQL nodes the same.

Resumable: run the same command again after an interruption; it goes on from the last batch
recorded in the database and never duplicates a face. Exit 0 when every group has the same
number of faces on both sides and the sampled searches agree, 1 otherwise (the differences are
printed).

Example:
  facerec migrate --from ./data --to postgres://facerec:secret@db:5432/facerec`)
    .action(async (o: MigrateOpts, cmd: Command) => {
      const opts = globals(cmd);
      const batchSize = positiveInt('--batch', o.batch, 1);
      const verifySample = positiveInt('--verify-sample', o.verifySample, 0);
      const url = o.to ?? process.env.FACEREC_DATABASE_URL;
      if (!url) throw new CliError('migrate needs --to postgres://… (or FACEREC_DATABASE_URL)');
      if (!/^postgres(ql)?:\/\//.test(url)) throw new CliError('--to must be a postgres:// URL');
      const config = configFrom({ ...opts, dataDir: o.from ? resolve(o.from) : opts.dataDir });
      const [{ migrateSqliteToPg }, { existsSync }, { join }, { DATABASE_FILE }, { default: cliProgress }] = await Promise.all([
        import('../../store/sqlite-to-pg.js'),
        import('node:fs'),
        import('node:path'),
        import('../../store/sqlite-connection.js'),
        import('cli-progress'),
      ]);
      if (!existsSync(join(config.dataDir, DATABASE_FILE))) throw new CliError(`no data dir at ${config.dataDir} (no ${DATABASE_FILE} there)`);

      const tty = process.stderr.isTTY === true;
      const bar = new cliProgress.SingleBar({
        format: 'migrate [{bar}] {value}/{total} faces {percentage}% | ETA {eta_formatted}',
        stream: process.stderr,
        // Without a terminal (CI, a log file): a line every few seconds instead of redrawing.
        noTTYOutput: !tty,
        notTTYSchedule: 5000,
        hideCursor: tty,
      }, cliProgress.Presets.shades_classic);
      let started = false;
      const notes: string[] = [];
      const note = (line: string) => {
        notes.push(line);
        process.stderr.write(`facerec: ${line}\n`);
      };
      let report;
      try {
        report = await migrateSqliteToPg({
          dataDir: config.dataDir,
          masterKey: config.masterKey,
          // The URL may come from --to alone: the other database settings are read from the environment here.
          database: { url, poolSize: 2, statementTimeoutMs: config.database?.statementTimeoutMs ?? 5000, caFile: process.env.FACEREC_DATABASE_CA_FILE || undefined },
          batchSize,
          verifySample,
          note,
          onPlan: ({ faces, alreadyCopied }) => {
            if (alreadyCopied > 0) process.stderr.write(`facerec: resuming: ${alreadyCopied} of ${faces} faces were copied by an earlier run\n`);
            bar.start(faces, alreadyCopied);
            started = true;
          },
          onBatch: ({ faces }) => bar.increment(faces),
        });
      } finally {
        if (started) bar.stop();
      }
      const v = report.verification;
      emit(opts.json, { ...report, notes }, (r) => [
        `migrated ${config.dataDir} → PostgreSQL: ${r.apps} apps, ${r.groups} groups, ${r.faces} faces (${r.facesInserted} copied by this run), ` +
          `${r.consents} consent records, ${r.auditEntries} audit entries`,
        `persons: ${r.persons} with their faces${v.persons.length ? ` — ${v.persons.length} groups DIFFER` : ''}, ${r.clusterJobs} clustering jobs`,
        `verified: face counts of ${r.groups} groups${v.counts.length ? ` — ${v.counts.length} DIFFER` : ' equal'}; ` +
          `${v.searches} sampled searches by faceId${v.searchMismatches.length ? ` — ${v.searchMismatches.length} with another top-1` : ' with the same top-1'}`,
        ...v.apps.map((a) => `  app ${a}: missing or with another secret key in the database`),
        ...v.counts.map((c) => `  group ${c.groupId} (app ${c.appKey}): ${c.source} faces in the data dir, ${c.target ?? 'no group'} in the database`),
        ...v.persons.map((p) => `  group ${p.groupId} (app ${p.appKey}): ${p.source.persons} persons holding ${p.source.faces} faces in the data dir, ${p.target.persons} holding ${p.target.faces} in the database`),
        ...v.searchMismatches.map((m) => `  search by ${m.faceId} in ${m.groupId} (app ${m.appKey}): top-1 ${m.source ?? 'none'} in the data dir, ${m.target ?? 'none'} in the database`),
      ].join('\n'));
      if (!report.ok) {
        throw new CliError('verification failed: the database does not hold what the data dir holds (see above). ' +
          'If the server was still writing to the data dir, stop it and run migrate again: it copies what is missing.', ExitCode.failed);
      }
    });
}
