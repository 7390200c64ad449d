import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { DatabaseConfig } from '../config.js';
import { StoreUnavailableError } from './store.js';

/**
 * The PostgreSQL connection pool every PostgreSQL port of a node shares, and the one place where
 * the driver's failures are sorted: "the database cannot be reached or did not answer in time"
 * becomes StoreUnavailableError (NHN -50000 with a detail saying so), anything else stays itself.
 *
 * Fail fast: a connection attempt gives up after `statementTimeoutMs`, a statement is cancelled
 * by the server after it, and the client stops waiting for an answer shortly after that. The pool
 * drops broken connections and opens new ones on the next request, so a node recovers by itself
 * when PostgreSQL is back, with no restart.
 */

/** bigint (int8) columns as numbers: face keys, counts and epoch milliseconds stay far below 2^53. */
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === pg.types.builtins.INT8 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export type Queryable = Pick<pg.PoolClient, 'query'>;

/** The longest a Node timer waits (about 24.8 days): no read timeout, in effect. */
const LONG_WORK_MS = 2 ** 31 - 1;

export class PgConnection {
  readonly pool: pg.Pool;

  constructor(readonly config: DatabaseConfig, onIdleError: (err: Error) => void = () => {}) {
    this.pool = new pg.Pool({
      connectionString: config.url,
      max: config.poolSize,
      connectionTimeoutMillis: config.statementTimeoutMs,
      idleTimeoutMillis: 30_000,
      // The server cancels a statement after this; the client waits a little longer for that answer.
      statement_timeout: config.statementTimeoutMs,
      query_timeout: config.statementTimeoutMs + 1000,
      lock_timeout: config.statementTimeoutMs,
      keepAlive: true,
      application_name: 'facerec',
      types,
      ...(config.caFile ? { ssl: { ca: readFileSync(config.caFile, 'utf8'), rejectUnauthorized: true } } : {}),
    });
    // A connection that breaks while idle (PostgreSQL restarted) is dropped by the pool; without
    // a listener the 'error' event would end the process.
    this.pool.on('error', onIdleError);
  }

  /**
   * Runs `work` on a connection of its own without the request timeouts: a migration or an index
   * build on a large table takes minutes, and may first wait for the table lock autovacuum holds
   * after a start. The connection is closed afterwards, not returned to the pool (its session
   * settings were changed). Checked out, it has no pool listener: a connection the server ends
   * meanwhile fails the next statement instead of ending the process.
   */
  async withoutTimeouts<T>(work: (query: <R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]) => Promise<pg.QueryResult<R>>) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    const ignore = () => {};
    client.on('error', ignore);
    try {
      await client.query('SET statement_timeout = 0');
      await client.query('SET lock_timeout = 0');
      // The driver's own read timeout is per query; 0 would mean "the pool's", so the longest a timer allows.
      // (query_timeout is read from the query's config by pg's Client.query, though its types omit it.)
      return await work(<R extends pg.QueryResultRow>(text: string, values?: unknown[]) => client.query<R>({ text, values, query_timeout: LONG_WORK_MS } as pg.QueryConfig));
    } finally {
      client.off('error', ignore);
      client.release(true);
    }
  }

  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>(text, values);
    } catch (err) {
      throw classify(err);
    }
  }

  /** Runs `work` in one transaction on one connection; rolls back when it throws. */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw classify(err);
    }
    let broken = false;
    // A checked-out client has no pool listener: PostgreSQL terminating the connection between two
    // statements of the transaction would otherwise be an unhandled 'error' event that ends the
    // process. The next statement then fails (classified as unavailable) and the client is dropped.
    const onError = () => (broken = true);
    client.on('error', onError);
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      return result;
    } catch (err) {
      const classified = classify(err);
      broken ||= classified instanceof StoreUnavailableError;
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      throw classified;
    } finally {
      client.off('error', onError);
      // A connection whose state is unknown is not handed to the next request.
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** SQLSTATE classes and driver errors that mean "unreachable or too slow", not "wrong request". */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57014', '53300', '55P03']);
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

export function classify(err: unknown): unknown {
  if (err instanceof StoreUnavailableError) return err;
  const e = err as { code?: string; message?: string };
  const code = e?.code ?? '';
  const message = e?.message ?? '';
  if (code.startsWith('08') || UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_NODE_CODES.has(code) ||
      /Connection terminated|timeout exceeded when trying to connect|Query read timeout|connection timeout|Client has encountered a connection error/i.test(message)) {
    return new StoreUnavailableError(code === '57014' ? 'the database did not answer in time' : 'the database cannot be reached', { cause: err });
  }
  return err;
}
