// `npx facerec …` (bin/facerec.mjs): parse the command line, run one command, turn failures into
// a one-line message on stderr and an exit code.
import { FacerecApiError } from '../client/index.js';
import { CliError } from './output.js';
import { buildProgram } from './program.js';

try {
  await buildProgram().parseAsync(process.argv);
} catch (e) {
  if (e instanceof FacerecApiError) {
    // NHN's name and code, then the server's reason (facerec servers send one; NHN's do not).
    process.stderr.write(`facerec: ${e.resultMessage} (resultCode ${e.resultCode})${e.detail ? `: ${e.detail}` : ''}\n`);
    process.exitCode = 1;
  } else if (e instanceof CliError) {
    process.stderr.write(`facerec: ${e.message}\n`);
    process.exitCode = e.exitCode;
  } else {
    // No stack trace for expected failures (server unreachable, unreadable data dir…); FACEREC_DEBUG shows it.
    const err = e as Error & { cause?: { code?: string; message?: string } };
    // fetch says only "fetch failed"; the reason (ECONNREFUSED, ENOTFOUND…) is in its cause.
    const cause = err.cause ? `: ${err.cause.code ?? err.cause.message}` : '';
    process.stderr.write(`facerec: ${process.env.FACEREC_DEBUG ? (err.stack ?? String(e)) : `${err.message ?? String(e)}${cause}`}\n`);
    process.exitCode = 1;
  }
}
