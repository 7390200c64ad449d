import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { stat } from 'node:fs/promises';
import { Option, type Command } from 'commander';
import { intIn } from '../args.js';
import { progressBar } from '../indexer/progress.js';
import { writeReport, type IndexReport } from '../indexer/report.js';
import { runIndex } from '../indexer/run-index.js';
import type { ExternalIdSource } from '../indexer/external-id.js';
import { ExitCode } from '../exit-codes.js';
import { CliError, emit } from '../output.js';
import { globals, withSession } from '../session.js';

export function addIndexCommand(program: Command): void {
  program
    .command('index <folder>')
    .description('register every JPEG/PNG under a folder into a group; run it again to resume after an interruption')
    .requiredOption('-g, --group <groupId>', 'group to register into (created if missing)')
    .addOption(new Option('--external-id-from <source>', 'store each photo\'s file name (or relative path) as its externalImageId; also prevents duplicates if the state file is lost').choices(['filename', 'path']))
    .option('--concurrency <n>', 'photos in flight at once (in-process: also engine threads, up to the core count)', intIn(1, 64), 4)
    .option('--max-faces <n>', 'faces to register per photo, largest first', intIn(1, 20), 1)
    .option('--state <file>', 'resume state (default: <folder>/.facerec-index-<group>.jsonl)')
    .option('--report <file>', 'report of photos with no face or errors; .csv for CSV (default: facerec-index-<group>-report.json beside the state file)')
    .option('--no-progress', 'no progress bar')
    .addHelpText(
      'after',
      `
Exit codes:
  0    every photo registered, now or in an earlier run
  1    the run failed or stopped before the end (server unreachable, keys refused,
       group full); run the same command again to resume
  2    usage: bad option value, the folder cannot be read
  3    the whole folder was gone through, but some photos were not registered
       (no face, not an image, too large): the report lists them
  130  interrupted (Ctrl-C); run the same command again to resume`,
    )
    .action(async (folder: string, _o: object, cmd: Command) => {
      const opts = globals(cmd);
      const groupId = opts.group as string;
      const dir = resolve(folder);
      if (!(await stat(dir).catch(() => undefined))?.isDirectory()) throw new CliError(`${folder} is not a folder`);
      const statePath = resolve((opts.state as string | undefined) ?? join(dir, `.facerec-index-${groupId}.jsonl`));
      // Beside the state file, not in whatever directory the command was started from.
      const reportPath = resolve((opts.report as string | undefined) ?? join(dirname(statePath), `facerec-index-${groupId}-report.json`));
      const concurrency = opts.concurrency as number;

      // Ctrl-C: finish the photos in flight, write the report, exit; a second Ctrl-C exits at once.
      const interrupt = new AbortController();
      const onSigint = () => {
        if (interrupt.signal.aborted) process.exit(130);
        interrupt.abort();
        process.stderr.write('\nfacerec: finishing the photos in flight (Ctrl-C again to quit at once)\n');
      };
      process.on('SIGINT', onSigint);
      try {
        const report = await withSession(
          opts,
          ({ client, target, appKey }) =>
            runIndex(client, {
              folder: dir,
              groupId,
              target,
              appKey,
              statePath,
              externalIdFrom: opts.externalIdFrom as ExternalIdSource | undefined,
              concurrency,
              facesPerPhoto: opts.maxFaces as number,
              signal: interrupt.signal,
              progress: progressBar(opts.progress !== false && process.stderr.isTTY === true),
              notice: (m) => process.stderr.write(`facerec: ${m}\n`),
            }),
          Math.min(concurrency, availableParallelism()),
        );
        writeReport(reportPath, report);
        emit(opts.json, report, (r) => summary(r, reportPath));
        if (opts.json) process.stderr.write(`facerec: report: ${reportPath}\n`);
        process.exitCode = indexExitCode(report);
      } finally {
        process.off('SIGINT', onSigint);
      }
    });
}

/** Stopped early: failed (1) or interrupted (130); through the folder: 0, or 3 if a photo was not registered. */
export function indexExitCode(r: IndexReport): number {
  if (r.stoppedEarly === 'interrupted') return ExitCode.interrupted;
  if (r.stoppedEarly) return ExitCode.failed;
  return r.totals.errors > 0 || r.totals.noFace > 0 ? ExitCode.partial : ExitCode.ok;
}

function summary(r: IndexReport, reportPath: string): string {
  const t = r.totals;
  const lines = [
    `group ${r.groupId}: ${t.files} photos: ${t.added} registered now (${t.facesAdded} faces), ${t.skipped} done before, ${t.noFace} without a face, ${t.errors} errors`,
  ];
  if (r.stoppedEarly) lines.push(`stopped early: ${r.stoppedEarly}; ${t.notAttempted} photos not attempted: run the same command again to resume`);
  for (const e of r.errors.slice(0, 10)) {
    lines.push(`  error ${e.file}: ${e.resultMessage}${e.resultCode === null ? '' : ` (resultCode ${e.resultCode})`}${e.detail ? `: ${e.detail}` : ''}`);
  }
  if (r.errors.length > 10) lines.push(`  … and ${r.errors.length - 10} more`);
  lines.push(`report: ${reportPath}`);
  return lines.join('\n');
}
