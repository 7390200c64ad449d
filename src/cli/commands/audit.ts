import type { Command } from 'commander';
import { CliError, emit } from '../output.js';
import { configFrom, globals } from '../session.js';
import { ExitCode } from '../exit-codes.js';

/** `audit verify` reads the data dir itself; `audit list` (privacy.ts) asks the server, like other commands. */
export function addAuditCommands(program: Command): Command {
  const audit = program.command('audit').description('the audit log (docs/privacy.md): verify the data dir\'s hash chain, list the app\'s entries');
  audit
    .command('verify')
    .description('walk the audit log\'s hash chain; exits 1 at the first entry that was edited, removed or reordered')
    .action(async (_o: object, cmd: Command) => {
      const opts = globals(cmd);
      const config = configFrom(opts);
      // Imported on use, so that commands against a remote server never load SQLite.
      const [{ SqliteStore }, { SqlitePrivacy }, { verifyChain }] = await Promise.all([
        import('../../store/sqlite-store.js'),
        import('../../store/sqlite-privacy.js'),
        import('../../store/audit-chain.js'),
      ]);
      // The store opens first: it checks the master key and brings the schema up to date.
      const store = SqliteStore.open(config.dataDir, { masterKey: config.masterKey });
      const log = SqlitePrivacy.open(config.dataDir);
      try {
        const { anchor, entries } = log.chain();
        const verdict = verifyChain(entries, anchor);
        if (!verdict.ok) throw new CliError(`audit log broken at entry ${verdict.seq}: ${verdict.reason}`, ExitCode.failed);
        emit(opts.json, verdict, (v) => `audit log intact: ${v.entries} entries`);
      } finally {
        log.close();
        await store.close();
      }
    });
  return audit;
}
