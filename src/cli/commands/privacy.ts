import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import type { AuditEntry, SubjectFace } from '../../client/index.js';
import { intIn } from '../args.js';
import { box, CliError, emit, table } from '../output.js';
import { globals, withSession } from '../session.js';

/** The retention route's range: whole days up to a century. */
const retentionDays = intIn(1, 36_500);

/** An ISO 8601 time, checked here so that a typo is a usage error, not a server refusal. */
const isoTime = (raw: string): string => {
  if (Number.isNaN(Date.parse(raw))) throw new InvalidArgumentError('must be an ISO 8601 time, e.g. 2026-01-31T00:00:00Z');
  return raw;
};

const SUBJECT_HEAD = ['groupId', 'faceId', 'created (UTC)', 'box x0 y0 x1 y1', 'consentRef', 'purpose'];
const subjectRows = (faces: SubjectFace[]) => faces.map((f) => [f.groupId, f.faceId, f.createTime, box(f.bbox), f.consentRef ?? '', f.purpose ?? '']);

const AUDIT_HEAD = ['seq', 'time', 'action', 'groupId', 'count', 'requestId'];
const auditRows = (entries: AuditEntry[]) => entries.map((e) => [e.seq, e.time, e.action, e.groupId ?? '', e.count, e.requestId ?? '']);

/**
 * The privacy extension from the command line (docs/privacy.md): a data subject's faces (see,
 * export, erase), the audit log, retention periods. Remote or in-process, like every command.
 */
export function addPrivacyCommands(program: Command, audit: Command): void {
  const subjects = program.command('subjects').description("a data subject's faces in every group of the app, by externalImageId: show, export, erase");

  subjects
    .command('show <externalImageId>')
    .description('every face held for the subject, in every group (subject access; never vectors)')
    .action((externalImageId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const r = await client.subjectAccess(externalImageId);
        emit(opts.json, r, () => (r.faceCount ? table(SUBJECT_HEAD, subjectRows(r.faces)) : `no faces for ${externalImageId}`));
      });
    });

  subjects
    .command('export <externalImageId>')
    .description('the subject access record as JSON or CSV, to stdout or a file (portability)')
    .addOption(new Option('--format <format>', 'json (the API answer) or csv (one row per face)').choices(['json', 'csv']).default('json'))
    .option('-o, --output <file>', 'write to this file (created private, mode 0600) instead of stdout')
    .action((externalImageId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      const output = opts.output as string | undefined;
      // The file holds personal data: created private, never over an existing one, and before
      // the request, so that a refused path does not cost an export in the audit log.
      let fd: number | undefined;
      try {
        if (output) fd = openSync(output, 'wx', 0o600);
      } catch (e) {
        throw new CliError(`cannot write ${output}: ${(e as Error).message}`);
      }
      return withSession(opts, async ({ client }) => {
        const text = opts.format === 'csv' ? await client.subjectAccessCsv(externalImageId) : JSON.stringify(await client.subjectAccess(externalImageId), null, 2) + '\n';
        if (fd === undefined) {
          process.stdout.write(text);
          return;
        }
        writeSync(fd, text);
        emit(opts.json, { externalImageId, format: opts.format, file: output }, () => `wrote the ${String(opts.format).toUpperCase()} record of ${externalImageId} to ${output}`);
      }).catch((e: unknown) => {
        if (output) rmSync(output, { force: true }); // no empty or partial record left behind
        throw e;
      }).finally(() => {
        if (fd !== undefined) closeSync(fd);
      });
    });

  subjects
    .command('erase <externalImageId>')
    .description('delete every face of the subject in every group of the app (store, indexes, snapshots); safe to retry')
    .action((externalImageId: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const r = await client.eraseSubject(externalImageId);
        emit(opts.json, r, () => {
          const lines = [`erased ${r.deletedFaceCount} face(s) of ${externalImageId}`];
          if (r.groups.length) lines.push(table(['groupId', 'faces erased'], r.groups.map((g) => [g.groupId, g.deletedFaceCount])));
          return lines.join('\n');
        });
      });
    });

  audit
    .command('list')
    .description("the app's audit entries, oldest first (subjects and faces appear as pseudonyms)")
    .option('--from <time>', 'only entries at or after this ISO 8601 time', isoTime)
    .option('--to <time>', 'only entries before this ISO 8601 time', isoTime)
    .option('--external-id <id>', 'only entries about this subject (externalImageId)')
    .option('--after-seq <n>', 'only entries after this seq (continue a listing)', intIn(0, Number.MAX_SAFE_INTEGER))
    .option('--max <n>', 'stop after this many entries', intIn(1, Number.MAX_SAFE_INTEGER))
    .option('--page-size <n>', 'entries per request', intIn(1, 1000), 1000)
    .action((_o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const entries: AuditEntry[] = [];
        const query = {
          from: opts.from as string | undefined,
          to: opts.to as string | undefined,
          externalImageId: opts.externalId as string | undefined,
          afterSeq: opts.afterSeq as number | undefined,
          pageSize: opts.pageSize as number,
        };
        for await (const e of client.auditLog(query)) {
          entries.push(e);
          if (opts.max !== undefined && entries.length >= (opts.max as number)) break;
        }
        emit(opts.json, entries, (l) => (l.length ? table(AUDIT_HEAD, auditRows(l)) : 'no audit entries'));
      });
    });

  const retention = program.command('retention').description('retention periods: faces older than their group\'s period, or the app default, are deleted by the sweep');

  retention
    .command('show')
    .description("the app's default period and each group's own")
    .action((_o: object, cmd: Command) => {
      const opts = globals(cmd);
      return withSession(opts, async ({ client }) => {
        const r = await client.getRetention();
        emit(opts.json, r, () => {
          const rows: (string | number)[][] = [['(app default)', r.defaultRetentionDays ?? 'none: faces are kept']];
          for (const g of r.groups) rows.push([g.groupId, g.retentionDays]);
          return table(['group', 'retention days'], rows);
        });
      });
    });

  retention
    .command('set')
    .argument('<days>', 'whole days, 1-36500', retentionDays)
    .description('set the app default period, or a group\'s own with --group')
    .option('--group <groupId>', 'the group whose own period to set')
    .action((days: number, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      const group = opts.group as string | undefined;
      return withSession(opts, async ({ client }) => {
        if (group) await client.setGroupRetention(group, days);
        else await client.setAppRetention(days);
        emit(opts.json, { ...(group ? { groupId: group } : {}), retentionDays: days }, () => `${group ? `group ${group}` : 'app default'}: faces older than ${days} day(s) are deleted`);
      });
    });

  retention
    .command('clear')
    .description('clear the app default period (faces are kept), or a group\'s own with --group (the default applies)')
    .option('--group <groupId>', 'the group whose own period to clear')
    .action((_o: object, cmd: Command) => {
      const opts = globals(cmd);
      const group = opts.group as string | undefined;
      return withSession(opts, async ({ client }) => {
        if (group) await client.clearGroupRetention(group);
        else await client.clearAppRetention();
        emit(opts.json, { ...(group ? { groupId: group } : {}), cleared: true }, () => `${group ? `group ${group}` : 'app default'}: retention period cleared`);
      });
    });
}
