import { Command, Option } from 'commander';
import { addAnalyzeCommands } from './commands/analyze.js';
import { addAppsCommands } from './commands/apps.js';
import { addAuditCommands } from './commands/audit.js';
import { addFacesCommands } from './commands/faces.js';
import { addGroupsCommands } from './commands/groups.js';
import { addIndexCommand } from './commands/index-folder.js';
import { addMigrateCommand } from './commands/migrate.js';
import { addPrivacyCommands } from './commands/privacy.js';
import { addPersonsCommands } from './commands/persons.js';
import { addServeCommand } from './commands/serve.js';
import { EXIT_CODES_HELP, ExitCode } from './exit-codes.js';
import { packageVersion } from '../package-version.js';

/** The `facerec` command line; options declared here are accepted before or after any subcommand. */
export function buildProgram(): Command {
  const program = new Command()
    .name('facerec')
    .description('Self-hosted face recognition (NHN Cloud Face Recognition API compatible).')
    .version(packageVersion(), '-V, --version', 'print the version and exit')
    .addOption(new Option('--url <url>', 'server to talk to, e.g. http://localhost:8080').env('FACEREC_URL'))
    .addOption(new Option('--app-key <appKey>', 'app to act as (in-process: defaults to the oldest app of the data dir)').env('FACEREC_APPKEY'))
    .addOption(new Option('--secret-key <secretKey>', 'the app\'s secret key (needed with --url only)').env('FACEREC_SECRETKEY'))
    .addOption(new Option('--data-dir <dir>', 'data dir for in-process commands, apps and serve (default ./data)').env('FACEREC_DATA_DIR'))
    .option('--json', 'print machine-readable JSON instead of tables', false)
    .showHelpAfterError()
    // Commander exits 1 on a bad command line; here 1 means the run failed, so its errors exit 2.
    // Inherited by the subcommands added below.
    .exitOverride((err) => process.exit(err.exitCode === 0 ? ExitCode.ok : ExitCode.usage))
    .addHelpText(
      'after',
      `
Where commands run:
  With --url (or FACEREC_URL), commands talk to that server with --app-key/--secret-key
  (or FACEREC_APPKEY/FACEREC_SECRETKEY). Without it, they start the service inside this
  process on the data dir, as the app given by --app-key or else the oldest app there.
  Do not run in-process commands on a data dir a server is serving: the server's in-memory
  search index would not see their changes. Use --url then.

Examples:
  facerec groups create staff
  facerec faces add staff alice.jpg --external-id alice.jpg
  facerec search staff probe.jpg --threshold 70
  facerec index ./photos --group staff --external-id-from filename --concurrency 4
  facerec --url http://localhost:8080 --json detect group.jpg
  facerec subjects export alice.jpg --format csv -o alice.csv
  facerec retention set 365 --group staff
  facerec persons register family alice-1.jpg alice-2.jpg --name Alice
  facerec photos family --image alice-3.jpg
  facerec cluster family --to-persons
  facerec migrate --from ./data --to postgres://facerec:secret@db:5432/facerec
${EXIT_CODES_HELP}`,
    );
  addServeCommand(program);
  addAppsCommands(program);
  addGroupsCommands(program);
  addFacesCommands(program);
  addAnalyzeCommands(program);
  addIndexCommand(program);
  addPrivacyCommands(program, addAuditCommands(program));
  addPersonsCommands(program);
  addMigrateCommand(program);
  return program;
}
