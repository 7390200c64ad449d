import type { PgConnection } from '../store/pg-connection.js';
import { FACE_GRAPH_KEY, parseVector, selectVector, vectorLiteral } from '../store/pg-store.js';
import { ExactIndex } from './exact-index.js';
import type { FaceSearch, GroupRef, SearchHit } from './face-search.js';

/**
 * 1:N search inside PostgreSQL (pgvector): the FaceSearch of PostgreSQL mode, where the database
 * is the one index every node shares, so a face committed through one node is found through any
 * other at once and a node keeps no index of its own (nothing to tell, nothing to rebuild).
 *
 * Per group: a group below `exactBelow` faces is scanned exactly (ordered by an expression the
 * HNSW index cannot serve, so the planner walks the group's rows); a larger one goes through the
 * HNSW index with pgvector 0.8's iterative scan (relaxed order), which keeps walking the graph
 * until enough of the group's faces passed the filter. The graph is built over half-precision
 * copies of the vectors (PostgreSQL migration 5): half the size, a third faster, the same recall. Either way the candidates are re-ranked by
 * the same exact cosine as the in-memory ExactIndex, so scores agree with the SQLite store's to
 * the last bit and the graph only decides which faces are candidates. docs/scale.md has figures.
 */
export interface PgSearchSettings {
  /** Groups smaller than this are scanned exactly. */
  exactBelow: number;
  /** Candidates fetched from the graph per wanted hit (re-ranked exactly). */
  candidatesPerHit: number;
  /** Fewest candidates fetched from the graph. */
  minCandidates: number;
  /** hnsw.ef_search: the graph search's breadth (at least the candidates fetched). */
  efSearch: number;
}

/**
 * The graph path's query ($1 app, $2 group, $3 query vector, $4 face to leave out or null, $5
 * candidates). It orders by the graph's own expression (a half-precision copy of the vector):
 * with any other, the planner could not use the graph and would scan the whole table.
 */
export const GRAPH_SEARCH_SQL =
  `SELECT face_id, ${selectVector()} AS embedding FROM faces ` +
  'WHERE app_key = $1 AND group_id = $2 AND ($4::text IS NULL OR face_id <> $4) ' +
  `ORDER BY ${FACE_GRAPH_KEY} <=> $3::halfvec(512) LIMIT $5`;

/**
 * The exact path's query (the same parameters, $5 rows kept). "+ 0" makes the distance an
 * expression the graph does not hold, so the planner reads the group's rows; the vectors are
 * converted for sending only for the rows kept (converting every row to text before the sort
 * cost more than the scan itself: 50 ms against 19 at 2,000 faces).
 */
export const EXACT_SEARCH_SQL =
  `SELECT f.face_id, ${selectVector('f.embedding')} AS embedding FROM (` +
  'SELECT seq, (embedding <=> $3::vector) + 0 AS distance FROM faces ' +
  'WHERE app_key = $1 AND group_id = $2 AND ($4::text IS NULL OR face_id <> $4) ' +
  'ORDER BY distance LIMIT $5) AS nearest JOIN faces f ON f.seq = nearest.seq ORDER BY nearest.distance';

export const DEFAULT_PG_SEARCH: PgSearchSettings = { exactBelow: 5_000, candidatesPerHit: 4, minCandidates: 40, efSearch: 100 };

export class PgFaceSearch implements FaceSearch {
  constructor(
    private readonly db: PgConnection,
    private readonly dimensions: number,
    private readonly settings: PgSearchSettings = DEFAULT_PG_SEARCH,
  ) {}

  async search(group: GroupRef, query: Float32Array, k: number, minScore: number, exclude?: string): Promise<SearchHit[]> {
    if (k <= 0) return [];
    const q = vectorLiteral(query);
    const params = [group.appKey, group.groupId, q, exclude ?? null];
    let rows: { face_id: string; embedding: Buffer }[];
    if (group.faceCount < this.settings.exactBelow) {
      ({ rows } = await this.db.query<{ face_id: string; embedding: Buffer }>(EXACT_SEARCH_SQL, [...params, 2 * k + 8]));
    } else {
      const candidates = Math.max(this.settings.minCandidates, k * this.settings.candidatesPerHit);
      rows = await this.db.transaction(async (tx) => {
        await tx.query('SET LOCAL hnsw.iterative_scan = relaxed_order');
        await tx.query(`SET LOCAL hnsw.ef_search = ${Math.max(this.settings.efSearch, candidates)}`);
        const result = await tx.query<{ face_id: string; embedding: Buffer }>(GRAPH_SEARCH_SQL, [...params, candidates]);
        return result.rows;
      });
    }
    // Exact re-rank with the in-memory scorer: the same scores, ties and minScore as SQLite mode.
    const exact = new ExactIndex(this.dimensions);
    for (const row of rows) exact.add(row.face_id, parseVector(row.embedding));
    return exact.search(query, k, minScore, exclude).map((h) => ({ faceId: h.id, score: h.score }));
  }

  // The database is the index: writes are already in it when these are called.
  added(): void {}
  removed(): void {}
  dropped(): void {}
  async close(): Promise<void> {}
}
