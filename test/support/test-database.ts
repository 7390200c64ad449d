import { createHash } from 'node:crypto';
import pg from 'pg';

/**
 * The PostgreSQL pass of the suite (scripts/test.mjs): FACEREC_TEST_DATABASE_URL names a server
 * started by scripts/pg-local.sh, and every data dir a test makes gets a database of its own on
 * it, so tests stay as isolated as they are on SQLite (a restart on the same data dir finds the
 * same database).
 */
export const TEST_DATABASE_URL = process.env.FACEREC_TEST_DATABASE_URL || undefined;

/** True in the PostgreSQL pass: tests of SQLite's own files skip themselves. */
export const onPostgres = TEST_DATABASE_URL !== undefined;

/** The reason a SQLite-only test gives when skipped in the PostgreSQL pass. */
export const sqliteOnly = (what: string) => (onPostgres ? `SQLite only: ${what}` : false);

const databaseName = (dataDir: string) => `t_${createHash('sha1').update(dataDir).digest('hex').slice(0, 20)}`;

function urlFor(name: string): string {
  const url = new URL(TEST_DATABASE_URL!);
  url.pathname = `/${name}`;
  return url.toString();
}

/** Environment selecting the data dir's own database in the PostgreSQL pass; {} otherwise. */
export async function databaseEnv(dataDir: string): Promise<Record<string, string>> {
  if (!TEST_DATABASE_URL) return {};
  const name = databaseName(dataDir);
  await createDatabaseIfMissing(TEST_DATABASE_URL, name);
  return { FACEREC_DATABASE_URL: urlFor(name) };
}

/** Drops the data dir's database (the PostgreSQL side of deleting the data dir). */
export async function dropDatabase(dataDir: string): Promise<void> {
  if (!TEST_DATABASE_URL) return;
  const admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName(dataDir)} WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

/** One query on the given database (tests looking behind the store in the PostgreSQL pass). */
export async function queryDatabase<R extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(sql, values)).rows;
  } finally {
    await client.end();
  }
}

/** Creates database `name` on the server `serverUrl` points at, unless it exists (tests, bench:scale). */
export async function createDatabaseIfMissing(serverUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount === 0) await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
}
