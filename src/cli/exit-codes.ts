// One exit-code scheme for every `facerec` command, so scripts can tell "fix the command line"
// from "the run failed" from "done, but look at the report". README and `--help` list them.

export const ExitCode = {
  /** Done. `index`: every photo registered, now or in an earlier run. */
  ok: 0,
  /** Failed: the server refused the request (its resultCode is printed) or could not be reached, the data dir or app could not be used; `index` stopped before the end. */
  failed: 1,
  /** Usage: unknown command or option, a bad or missing value, a file or folder that cannot be read. Nothing was sent. */
  usage: 2,
  /** `index` went through the whole folder, but some photos were not registered (no face, not an image, too large): the report lists them. */
  partial: 3,
  /** Interrupted with Ctrl-C (`index` writes its report first). */
  interrupted: 130,
} as const;

export const EXIT_CODES_HELP = `
Exit codes:
  0    done (index: every photo registered, now or before)
  1    failed: the server refused (resultCode printed) or was unreachable, the data dir
       or app could not be used; index stopped before the end
  2    usage: unknown command or option, bad or missing value, unreadable file or folder
  3    index went through the folder, but some photos were not registered (no face,
       not an image, too large): see the report
  130  interrupted (Ctrl-C)`;
