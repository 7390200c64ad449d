/**
 * PostgreSQL mode's search graph (PostgreSQL pass only): the graph is built over half-precision
 * copies of the vectors (migration 5), and the search's graph query is one the planner can answer
 * from it — with any other ORDER BY expression a large group would silently be scanned row by row.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { GRAPH_SEARCH_SQL } from '../src/index/pg-face-search.js';
import { PgConnection } from '../src/store/pg-connection.js';
import { migratePg } from '../src/store/pg-migrations.js';
import { databaseEnv, dropDatabase, onPostgres } from './support/test-database.js';

describe('PostgreSQL search graph', { skip: onPostgres ? false : 'PostgreSQL pass only' }, () => {
  let dir: string;
  let url: string;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'facerec-pg-search-'));
    url = (await databaseEnv(dir)).FACEREC_DATABASE_URL;
    const connection = new PgConnection({ url, poolSize: 1, statementTimeoutMs: 30_000 });
    try {
      await migratePg(connection);
    } finally {
      await connection.close();
    }
  });

  after(async () => {
    await dropDatabase(dir);
    rmSync(dir, { recursive: true, force: true });
  });

  test('the graph indexes halfvec(512) copies with the cosine operator class', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ indexdef: string }>("SELECT indexdef FROM pg_indexes WHERE indexname = 'faces_embedding_hnsw'");
      assert.equal(rows.length, 1);
      assert.match(rows[0].indexdef, /USING hnsw \(\(\(embedding\)::halfvec\(512\)\) halfvec_cosine_ops\)/);
    } finally {
      await client.end();
    }
  });

  test('the graph query can be answered from the graph', async () => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      // An empty table makes reading the group's rows and sorting them the cheapest plan. With
      // sorts (and scans) priced out, only an index that returns rows in distance order is left,
      // and the HNSW index does that only for a query ordering by the expression it holds.
      await client.query('SET enable_sort = off');
      await client.query('SET enable_seqscan = off');
      const query = `[${new Array(512).fill(0).map((_, i) => (i === 0 ? 1 : 0)).join(',')}]`;
      const sql = GRAPH_SEARCH_SQL.replace('$1', "'app'").replace('$2', "'group'").replace('$3', `'${query}'`).replace(/\$4/g, 'NULL').replace('$5', '40');
      const { rows } = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`);
      const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
      assert.match(plan, /Index Scan using faces_embedding_hnsw/, plan);
    } finally {
      await client.end();
    }
  });
});
