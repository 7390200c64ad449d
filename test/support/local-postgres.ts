// A private PostgreSQL 15 + pgvector for one test file, through scripts/pg-local.sh (the same
// script operators and `npm test`'s PostgreSQL pass use): started in a temp dir, stopped and
// started again on the same port (fault tests), destroyed at the end.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const PG_LOCAL = join(ROOT, 'scripts', 'pg-local.sh');
const run = promisify(execFile);

/**
 * `false` when PostgreSQL can run here; otherwise the reason to skip, or an error when
 * FACEREC_REQUIRE_POSTGRES=1 (CI) says the tests must not be skipped.
 */
export function postgresSkipReason(): string | false {
  const check = spawnSync('bash', [PG_LOCAL, 'check'], { cwd: ROOT, encoding: 'utf8' });
  if (check.status === 0) return false;
  const reason = check.stderr.trim().split('\n').pop() || 'scripts/pg-local.sh check failed';
  if (process.env.FACEREC_REQUIRE_POSTGRES === '1') throw new Error(`FACEREC_REQUIRE_POSTGRES=1 but PostgreSQL cannot run here: ${reason}`);
  return `no PostgreSQL 15 here (${reason})`;
}

export class LocalPostgres {
  private constructor(readonly dir: string, readonly url: string) {}

  /** Builds pgvector if needed (cached in .cache/pg), starts a fresh cluster in a temp dir. */
  static async start(): Promise<LocalPostgres> {
    const dir = mkdtempSync(join(tmpdir(), 'facerec-pg-'));
    await run('bash', [PG_LOCAL, 'build'], { cwd: ROOT });
    const { stdout } = await run('bash', [PG_LOCAL, 'start', dir], { cwd: ROOT });
    const pg = new LocalPostgres(dir, stdout.trim().split('\n').pop()!);
    // Removed even if the test process ends without its after() hooks.
    process.once('exit', () => pg.destroySync());
    return pg;
  }

  /** Fast shutdown: open connections are terminated, the data stays. */
  async stop(): Promise<void> {
    await run('bash', [PG_LOCAL, 'stop', this.dir], { cwd: ROOT });
  }

  /** Starts the stopped cluster again, on the port it had. */
  async restart(): Promise<void> {
    const { stdout } = await run('bash', [PG_LOCAL, 'start', this.dir], { cwd: ROOT });
    if (stdout.trim().split('\n').pop() !== this.url) throw new Error(`PostgreSQL came back at another address: ${stdout.trim()}`);
  }

  destroySync(): void {
    spawnSync('bash', [PG_LOCAL, 'destroy', this.dir], { cwd: ROOT, stdio: 'ignore' });
  }
}
