// PostgreSQL mode with two nodes (issue 11): two real servers (`npm start` as child processes, on
// their own ports and data dirs) over one private PostgreSQL started by scripts/pg-local.sh.
// Writes acknowledged by node A are seen by node B at once (registers, deletes, groups, page
// tokens), the group quota holds under concurrent registers through both, a node killed with
// SIGKILL during bulk registration loses nothing it acknowledged while the other serves on, and
// PostgreSQL stopped under traffic makes requests fail fast with -50000 and Retry-After (no hang,
// no crash) until it is back, after which both nodes recover by themselves.
// Skipped without PostgreSQL 15 on the machine, unless FACEREC_REQUIRE_POSTGRES=1 (CI).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { faceCrops } from './support/face-crops.js';
import { LocalPostgres, postgresSkipReason } from './support/local-postgres.js';
import { ServerProcess } from './support/server-process.js';

const skip = postgresSkipReason();
const APP_KEY = 'pg-nodes-app';
const SECRET_KEY = 'pg-nodes-secret';
/** The group quota of both nodes: small, so concurrent registers cross it. */
const QUOTA = 12;
/** The longest a request may take while PostgreSQL is down (issue 11), and the time to recover. */
const FAIL_FAST_MS = 5000;
const RECOVER_MS = 5000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');

interface Answer {
  /** performance.now() when the request was sent, and how long the answer took. */
  sentAt: number;
  ms: number;
  status?: number;
  code?: number;
  retryAfter?: string | null;
  body?: any;
  /** No HTTP answer at all (refused, reset, timed out). */
  error?: string;
}

class Node {
  server!: ServerProcess;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'facerec-pg-node-'));
  constructor(readonly name: string, private readonly databaseUrl: string) {}

  async start(): Promise<void> {
    this.server = await ServerProcess.spawn({
      dataDir: this.dataDir,
      appKey: APP_KEY,
      secretKey: SECRET_KEY,
      env: { FACEREC_DATABASE_URL: this.databaseUrl, FACEREC_WORKERS: '1', FACEREC_MAX_FACES_PER_GROUP: String(QUOTA) },
    });
    await this.server.waitReady();
  }

  /** One v2 call over real HTTP; never throws (a missing answer is an `error`). */
  async v2(method: string, path: string, body?: object, timeoutMs = 15_000): Promise<Answer> {
    const sentAt = performance.now();
    try {
      const res = await fetch(`${this.server.origin}/v2.0/appkeys/${APP_KEY}${path}`, {
        method,
        headers: { authorization: SECRET_KEY, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const json = (await res.json()) as any;
      return { sentAt, ms: performance.now() - sentAt, status: res.status, code: json?.header?.resultCode, retryAfter: res.headers.get('retry-after'), body: json };
    } catch (err) {
      return { sentAt, ms: performance.now() - sentAt, error: String((err as Error)?.message ?? err) };
    }
  }

  /** A call that must succeed; returns its `data`. */
  async ok(method: string, path: string, body?: object): Promise<any> {
    const a = await this.v2(method, path, body);
    assert.equal(a.code, 0, `${this.name} ${method} ${path}: ${a.error ?? JSON.stringify(a.body?.header)}`);
    return a.body.data;
  }

  async register(groupId: string, image: Uint8Array, externalImageId: string): Promise<Answer> {
    return this.v2('POST', `/groups/${groupId}/faces`, { image: { bytes: b64(image) }, limit: 1, externalImageId });
  }

  /** Every face of a group, following nextToken. */
  async listAllFaces(groupId: string): Promise<{ faceId: string; externalImageId?: string }[]> {
    const faces: { faceId: string; externalImageId?: string }[] = [];
    let path = `/groups/${groupId}/faces?limit=100`;
    for (;;) {
      const data = await this.ok('GET', path);
      faces.push(...data.faces);
      if (!data.nextToken) return faces;
      path = `/groups/${groupId}/faces?next-token=${encodeURIComponent(data.nextToken)}`;
    }
  }

  async listAllGroups(): Promise<string[]> {
    const groups: string[] = [];
    let path = '/groups?limit=100';
    for (;;) {
      const data = await this.ok('GET', path);
      groups.push(...data.groups.map((g: { groupId: string }) => g.groupId));
      if (!data.nextToken) return groups;
      path = `/groups?next-token=${encodeURIComponent(data.nextToken)}`;
    }
  }

  /** The faceIds a search by image returns (threshold 1: every face of the group, best first). */
  async searchIds(groupId: string, image: Uint8Array, threshold = 1): Promise<Set<string>> {
    const data = await this.ok('POST', `/groups/${groupId}/faces/search`, { image: { bytes: b64(image) }, limit: 4096, threshold });
    return new Set(data.matchFaces.map((m: { face: { faceId: string } }) => m.face.faceId));
  }

  async ready(): Promise<number> {
    const res = await fetch(`${this.server.origin}/ready`, { signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status;
  }

  async close(): Promise<void> {
    if (this.server?.running) {
      const timer = setTimeout(() => this.server.child.kill('SIGKILL'), 10_000);
      await this.server.stop('SIGTERM');
      clearTimeout(timer);
    }
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

describe('two nodes over one PostgreSQL', { skip }, () => {
  let pg: LocalPostgres;
  let a: Node;
  let b: Node;
  let crops: Uint8Array[];

  before(async () => {
    if (skip) return;
    pg = await LocalPostgres.start();
    crops = await faceCrops(8);
    assert.ok(crops.length >= 6, 'need single-face crops of the fixture photos');
    a = new Node('A', pg.url);
    b = new Node('B', pg.url);
    // Both at once, as two `npm start`s would: one runs the migrations, both find the app.
    await Promise.all([a.start(), b.start()]);
  });

  after(async () => {
    // A node that exited on its own says why.
    for (const n of [a, b]) if (n?.server && !n.server.running && n.server.child.signalCode !== 'SIGKILL') console.log(`node ${n.name} exited (${n.server.child.exitCode ?? n.server.child.signalCode}):\n${n.server.output()}`);
    await Promise.all([a?.close(), b?.close()]);
    pg?.destroySync();
  });

  test('a face registered through A is found by a search through B issued right after A answers; page tokens cross nodes', { timeout: 120_000 }, async () => {
    await a.ok('POST', '/groups', { groupId: 'seen' });
    const ids: string[] = [];
    for (const [i, crop] of crops.entries()) {
      const reg = await a.register('seen', crop, `crop${i}`);
      assert.equal(reg.code, 0, JSON.stringify(reg.body?.header));
      const faceId: string = reg.body.data.addedFaces[0].faceId;
      ids.push(faceId);
      // Issued as soon as A's answer is in, with no pause.
      assert.ok((await b.searchIds('seen', crop, 90)).has(faceId), `B's search by image misses the face A just registered (crop${i})`);
      const byId = await b.v2('GET', `/groups/seen/faces/${faceId}/search?limit=1&threshold=1`);
      assert.equal(byId.code, 0, `B's search by faceId: ${JSON.stringify(byId.body?.header)}`);
    }
    assert.equal((await b.ok('GET', '/groups/seen')).faceCount, crops.length);
    // Page tokens work on the other node: pages of 3, fetched from A and B in turn.
    const listed: string[] = [];
    let page = await a.ok('GET', '/groups/seen/faces?limit=3');
    for (let i = 1; ; i++) {
      listed.push(...page.faces.map((f: { faceId: string }) => f.faceId));
      if (!page.nextToken) break;
      page = await (i % 2 ? b : a).ok('GET', `/groups/seen/faces?next-token=${encodeURIComponent(page.nextToken)}`);
    }
    assert.equal(new Set(listed).size, listed.length, 'no face twice across the two pages');
    assert.deepEqual([...listed].sort(), [...ids].sort());
  });

  test('a face deleted through A is never returned by B after A answers, even by searches already streaming on B', { timeout: 120_000 }, async () => {
    await a.ok('POST', '/groups', { groupId: 'gone' });
    const faces: string[] = [];
    for (const [i, crop] of crops.entries()) {
      const reg = await a.register('gone', crop, `crop${i}`);
      assert.equal(reg.code, 0);
      faces.push(reg.body.data.addedFaces[0].faceId);
    }
    // B searches the whole group back to back while A deletes one face after another.
    const deletedAt = new Map<string, number>();
    const searches: { sentAt: number; found: Set<string> }[] = [];
    let stop = false;
    const searcher = (async () => {
      for (let i = 0; !stop; i++) {
        const sentAt = performance.now();
        searches.push({ sentAt, found: await b.searchIds('gone', crops[i % crops.length]) });
      }
    })();
    for (const faceId of faces) {
      await sleep(50);
      assert.equal((await a.v2('DELETE', `/groups/gone/faces/${faceId}`)).code, 0);
      deletedAt.set(faceId, performance.now());
      // Right after A's answer, through B: not found by id, not listed, not in a search.
      assert.notEqual((await b.v2('GET', `/groups/gone/faces/${faceId}/search?limit=1&threshold=1`)).code, 0, 'B still searches by a deleted face');
      assert.ok(!(await b.listAllFaces('gone')).some((f) => f.faceId === faceId), 'B still lists a deleted face');
      assert.ok(!(await b.searchIds('gone', crops[faces.indexOf(faceId)])).has(faceId), 'B still finds a deleted face');
    }
    stop = true;
    await searcher;
    const stale = searches.flatMap((s) => [...s.found].filter((id) => (deletedAt.get(id) ?? Infinity) < s.sentAt));
    assert.deepEqual(stale, [], `of ${searches.length} searches on B, some returned faces deleted through A before they were sent`);
    assert.ok(searches.length >= faces.length, `only ${searches.length} searches ran on B`);
    assert.equal((await b.ok('GET', '/groups/gone')).faceCount, 0);
  });

  test('a group created on A is listed by B; one deleted on A is gone on B', { timeout: 60_000 }, async () => {
    for (const groupId of ['made-on-a-1', 'made-on-a-2', 'made-on-a-3']) {
      await a.ok('POST', '/groups', { groupId });
      assert.ok((await b.listAllGroups()).includes(groupId), `B does not list ${groupId}`);
      assert.equal((await b.ok('GET', `/groups/${groupId}`)).faceCount, 0);
    }
    await a.ok('DELETE', '/groups/made-on-a-2');
    assert.ok(!(await b.listAllGroups()).includes('made-on-a-2'));
    assert.notEqual((await b.v2('GET', '/groups/made-on-a-2')).code, 0);
  });

  test(`concurrent registers through both nodes never push a group past its quota of ${QUOTA}`, { timeout: 120_000 }, async () => {
    for (const groupId of ['quota-1', 'quota-2']) {
      await a.ok('POST', '/groups', { groupId });
      // 20 one-face registers for 12 places, half through each node, all in flight together.
      const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? b : a).register(groupId, crops[i % crops.length], `q${i}`)));
      const codes = answers.map((x) => x.code);
      assert.deepEqual(codes.filter((c) => c !== 0 && c !== -40070), [], `unexpected answers: ${JSON.stringify(answers.filter((x) => x.code !== 0 && x.code !== -40070).map((x) => x.error ?? x.body?.header))}`);
      const acked = answers.filter((x) => x.code === 0).flatMap((x) => x.body.data.addedFaces.map((f: { faceId: string }) => f.faceId));
      assert.equal(acked.length, QUOTA, `acknowledged ${acked.length} faces (codes ${codes})`);
      assert.ok(answers.some((x, i) => x.code === 0 && i % 2 === 0) && answers.some((x, i) => x.code === 0 && i % 2 === 1), 'both nodes added faces');
      for (const node of [a, b]) {
        assert.equal((await node.ok('GET', `/groups/${groupId}`)).faceCount, QUOTA);
        assert.deepEqual((await node.listAllFaces(groupId)).map((f) => f.faceId).sort(), [...acked].sort());
      }
      assert.equal((await a.register(groupId, crops[0], 'one-more')).code, -40070);
    }
  });

  test('SIGKILL of A during bulk registration: every face A acknowledged is stored and searchable through B, which serves on', { timeout: 180_000 }, async () => {
    const groups = ['bulk-0', 'bulk-1', 'bulk-2', 'bulk-3'];
    for (const groupId of groups) await a.ok('POST', '/groups', { groupId });
    const ledger = new Map<string, { groupId: string; crop: number; outcome: 'unknown' | 'acked' | 'refused'; faceId?: string }>();
    let acks = 0;
    let stop = false;
    // Four clients register through A, one group each, staying under the quota.
    const clients = groups.map(async (groupId, c) => {
      for (let n = 0; !stop && n < QUOTA - 1; n++) {
        const tag = `${groupId}-n${n}`;
        const crop = (c + n) % crops.length;
        ledger.set(tag, { groupId, crop, outcome: 'unknown' });
        const r = await a.register(groupId, crops[crop], tag);
        if (r.error) return; // no answer: the outcome stays unknown
        if (r.code === 0) {
          ledger.set(tag, { groupId, crop, outcome: 'acked', faceId: r.body.data.addedFaces[0].faceId });
          acks++;
        } else {
          ledger.set(tag, { groupId, crop, outcome: 'refused' });
        }
      }
    });
    // Meanwhile B serves reads and writes of its own.
    await a.ok('POST', '/groups', { groupId: 'b-side' });
    const bAnswers: Answer[] = [];
    let bStop = false;
    const bTraffic = (async () => {
      for (let i = 0; !bStop; i++) {
        if (i % 3) {
          bAnswers.push(await b.v2('GET', `/groups/bulk-${i % 4}/faces?limit=50`));
          continue;
        }
        const reg = await b.register('b-side', crops[i % crops.length], `b${i}`);
        bAnswers.push(reg);
        if (reg.code === 0) bAnswers.push(await b.v2('DELETE', `/groups/b-side/faces/${reg.body.data.addedFaces[0].faceId}`));
      }
    })();
    const deadline = performance.now() + 60_000;
    while (acks < 10 && performance.now() < deadline) await sleep(20);
    assert.ok(acks >= 10, `A acknowledged only ${acks} registers in 60 s`);
    const killed = await a.server.stop('SIGKILL');
    stop = true;
    assert.equal(killed.signal, 'SIGKILL');
    await Promise.all(clients);
    const afterKill = performance.now();
    await sleep(1500);
    bStop = true;
    await bTraffic;

    const bFailures = bAnswers.filter((x) => x.code !== 0);
    assert.deepEqual(bFailures.map((x) => x.error ?? x.body?.header), [], 'B failed requests while A was killed');
    assert.ok(bAnswers.some((x) => x.sentAt > afterKill && x.code === 0), 'B answered after A was killed');
    assert.equal(await b.ready(), 200);

    const entries = [...ledger.entries()];
    const acked = entries.filter(([, e]) => e.outcome === 'acked');
    console.log(`A acknowledged ${acked.length} registers before SIGKILL; ${entries.filter(([, e]) => e.outcome === 'unknown').length} were in flight`);
    for (const groupId of groups) {
      const listed = await b.listAllFaces(groupId);
      const listedIds = new Set(listed.map((f) => f.faceId));
      for (const [tag, e] of acked.filter(([, e]) => e.groupId === groupId)) {
        assert.ok(listedIds.has(e.faceId!), `${tag}: acknowledged by A, not listed by B`);
        assert.equal((await b.v2('GET', `/groups/${groupId}/faces/${e.faceId}/search?limit=1&threshold=1`)).code, 0, `${tag}: B cannot search by it`);
        assert.ok((await b.searchIds(groupId, crops[e.crop], 90)).has(e.faceId!), `${tag}: B's search by its photo misses it`);
      }
      for (const f of listed) {
        const e = ledger.get(f.externalImageId ?? '');
        assert.ok(e && e.outcome !== 'refused', `${groupId}: face ${f.faceId} (${f.externalImageId}) was never acknowledged nor in flight`);
        if (e.outcome === 'acked') assert.equal(e.faceId, f.faceId);
      }
    }
    // A comes back on the same database and sees what it acknowledged before it died.
    await a.start();
    assert.equal((await a.ok('GET', '/groups/bulk-0')).faceCount, (await b.ok('GET', '/groups/bulk-0')).faceCount);
  });

  test(`PostgreSQL stopped under traffic: both nodes answer -50000 with Retry-After within ${FAIL_FAST_MS / 1000} s, stay up, and recover within ${RECOVER_MS / 1000} s of its return`, { timeout: 180_000 }, async () => {
    await a.ok('POST', '/groups', { groupId: 'outage' });
    const faceId: string = (await a.register('outage', crops[0], 'outage-0')).body.data.addedFaces[0].faceId;
    const answers: (Answer & { node: string; op: string })[] = [];
    let stop = false;
    // Per node: a register (engine and store), a search by faceId and a group listing, in a loop.
    const ops: [string, (n: Node, i: number) => Promise<Answer>][] = [
      ['register', (n, i) => n.register('outage', crops[i % crops.length], `${n.name}-${i}`)],
      ['search', (n) => n.v2('GET', `/groups/outage/faces/${faceId}/search?limit=5&threshold=1`)],
      ['groups', (n) => n.v2('GET', '/groups?limit=10')],
    ];
    const loops = [a, b].flatMap((node) => ops.map(async ([op, call]) => {
      for (let i = 0; !stop; i++) {
        const answer = await call(node, i);
        answers.push({ ...answer, node: node.name, op });
        // A registered face is deleted again through the same node (the group stays under its quota).
        if (op === 'register' && answer.code === 0) {
          answers.push({ ...(await node.v2('DELETE', `/groups/outage/faces/${answer.body.data.addedFaces[0].faceId}`)), node: node.name, op: 'delete' });
        }
        await sleep(20);
      }
    }));
    await sleep(1500);
    const stopping = performance.now();
    await pg.stop();
    const down = performance.now();
    await sleep(3000);
    const restarting = performance.now();
    await pg.restart();
    const up = performance.now();
    await sleep(RECOVER_MS + 2000);
    stop = true;
    await Promise.all(loops);

    // Neither node crashed or needed a restart.
    for (const n of [a, b]) assert.ok(n.server.running, `node ${n.name} exited (${n.server.child.exitCode ?? n.server.child.signalCode}):\n${n.server.output()}`);
    const describe = (x: Answer & { node: string; op: string }) => `${x.node} ${x.op} at ${((x.sentAt - down) / 1000).toFixed(2)} s: ${x.error ?? `${x.code} in ${x.ms.toFixed(0)} ms`}`;
    // No request went unanswered or took longer than the limit, at any time.
    const slow = answers.filter((x) => x.error || x.ms > FAIL_FAST_MS);
    assert.deepEqual(slow.map(describe), [], 'requests without a timely answer');
    // The only failure is the documented one: -50000, saying the database is out of reach, with Retry-After.
    const failed = answers.filter((x) => x.code !== 0);
    for (const x of failed) {
      assert.equal(x.code, -50000, describe(x));
      assert.equal(x.retryAfter, '1', `${describe(x)}: Retry-After`);
      assert.match(x.body.header.detail, /the database (cannot be reached|did not answer in time)/, describe(x));
    }
    // While it was down, every request failed that way, on both nodes and for every kind.
    const whileDown = answers.filter((x) => x.sentAt > down && x.sentAt + x.ms < restarting);
    assert.deepEqual(whileDown.filter((x) => x.code !== -50000).map(describe), [], 'requests that did not fail while PostgreSQL was down');
    for (const node of ['A', 'B']) for (const [op] of ops) assert.ok(whileDown.some((x) => x.node === node && x.op === op), `no ${op} through ${node} while PostgreSQL was down`);
    // Back within RECOVER_MS of its return: everything sent after that succeeds.
    const late = answers.filter((x) => x.sentAt > up + RECOVER_MS);
    assert.ok(late.length >= 6, `only ${late.length} requests after the recovery window`);
    assert.deepEqual(late.filter((x) => x.code !== 0).map(describe), [], 'requests failing more than 5 s after PostgreSQL was back');
    const firstOk = Math.min(...[a, b].map((n) => answers.find((x) => x.node === n.name && x.sentAt > restarting && x.code === 0)?.sentAt ?? Infinity));
    console.log(
      `PostgreSQL stop took ${(down - stopping).toFixed(0)} ms, start ${(up - restarting).toFixed(0)} ms; ${answers.length} requests, ${failed.length} answered -50000 ` +
        `(slowest ${Math.max(...failed.map((x) => x.ms)).toFixed(0)} ms); first success sent ${(firstOk - up).toFixed(0)} ms after pg-local.sh start returned`,
    );
    assert.equal(await a.ready(), 200);
    assert.equal(await b.ready(), 200);
  });
});
