// Crash safety: the real server (`npm start` as a child process) is killed with SIGKILL at
// seeded random moments while several clients register, delete and create over HTTP, and
// started again each time on the same data. At the end every acknowledged write must be there,
// nothing refused may be, interrupted registers are all-or-nothing, counts agree, every face is
// searchable, and SQLite finds the file intact after every crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CrashLedger } from './support/crash-ledger.js';
import { checkDatabase } from './support/db-checks.js';
import { faceCrops, groupPhoto } from './support/face-crops.js';
import { NhnV2Client, registerBody, seededRandom } from './support/nhn-http.js';
import { ServerProcess, type ServerProcessOptions } from './support/server-process.js';

const SEED = Number(process.env.CRASH_SEED ?? 20250601);
const KILLS = Number(process.env.CRASH_KILLS ?? 24);
const CLIENTS = 4;
/** Share of restarts killed during start-up (opening the store, loading models) instead of under load. */
const STARTUP_KILL_SHARE = 0.2;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface World {
  ledger: CrashLedger;
  images: Map<string, Uint8Array>;
  /** Groups whose creation was acknowledged and that no one is deleting: register targets. */
  groups: string[];
  /** Groups created during the run, which may also be deleted. */
  dynamicGroups: string[];
  /** Acknowledged faces not yet picked for deletion. */
  liveFaces: { faceId: string; groupId: string }[];
}

/** One client: a seeded mix of writes until told to stop; every outcome goes to the ledger. */
async function client(id: number, cycle: number, api: NhnV2Client, w: World, stop: { now: boolean }): Promise<number> {
  const rng = seededRandom(SEED * 7919 + cycle * 31 + id);
  const pick = <T>(xs: T[]) => xs[Math.floor(rng() * xs.length)];
  let n = 0;
  while (!stop.now) {
    n++;
    const r = rng();
    if (r < 0.8 || w.liveFaces.length === 0) {
      const groupId = pick(w.groups);
      const image = rng() < 0.1 ? 'group' : `crop${Math.floor(rng() * (w.images.size - 1))}`;
      const tag = `c${id}-k${cycle}-n${n}`;
      w.ledger.register(tag, groupId, image, 'unknown');
      const body = registerBody(w.images.get(image)!, { limit: image === 'group' ? 3 : 1, externalImageId: tag }, rng() < 0.5);
      const res = await api.call('POST', `/groups/${groupId}/faces`, body).catch(() => undefined);
      if (!res) continue;
      if (res.header.isSuccessful) {
        const ids: string[] = res.data.addedFaces.map((f: { faceId: string }) => f.faceId);
        w.ledger.register(tag, groupId, image, 'acked', ids);
        w.liveFaces.push(...ids.map((faceId) => ({ faceId, groupId })));
      } else {
        w.ledger.register(tag, groupId, image, 'refused');
      }
    } else if (r < 0.9) {
      const [face] = w.liveFaces.splice(Math.floor(rng() * w.liveFaces.length), 1);
      w.ledger.faceDeletes.set(face.faceId, 'unknown');
      const res = await api.call('DELETE', `/groups/${face.groupId}/faces/${face.faceId}`).catch(() => undefined);
      if (res) w.ledger.faceDeletes.set(face.faceId, res.header.isSuccessful ? 'acked' : 'refused');
    } else if (r < 0.97 || w.dynamicGroups.length === 0) {
      const groupId = `g-k${cycle}-c${id}-n${n}`;
      w.ledger.groupCreates.set(groupId, 'unknown');
      const res = await api.call('POST', '/groups', { groupId }).catch(() => undefined);
      if (!res) continue;
      w.ledger.groupCreates.set(groupId, res.header.isSuccessful ? 'acked' : 'refused');
      if (res.header.isSuccessful) {
        w.groups.push(groupId);
        w.dynamicGroups.push(groupId);
      }
    } else {
      const [groupId] = w.dynamicGroups.splice(Math.floor(rng() * w.dynamicGroups.length), 1);
      w.groups.splice(w.groups.indexOf(groupId), 1);
      w.ledger.groupDeletes.set(groupId, 'unknown');
      const res = await api.call('DELETE', `/groups/${groupId}`).catch(() => undefined);
      if (res) w.ledger.groupDeletes.set(groupId, res.header.isSuccessful ? 'acked' : 'refused');
    }
  }
  return n;
}

/** Everything the ledger says must hold, checked through the API of a freshly started server. */
async function verify(api: NhnV2Client, w: World): Promise<{ problems: string[]; facesChecked: number; searches: number }> {
  const problems: string[] = [];
  let facesChecked = 0;
  let searches = 0;
  const groups = await api.listAllGroups();
  problems.push(...w.ledger.checkGroups(groups));
  for (const groupId of groups) {
    const faces = await api.listAllFaces(groupId);
    facesChecked += faces.length;
    problems.push(...w.ledger.checkFaces(groupId, faces));
    const details = await api.call('GET', `/groups/${groupId}`);
    if (details.data?.faceCount !== faces.length) problems.push(`${groupId}: group details say ${details.data?.faceCount} faces, the listing has ${faces.length}`);
    // Every face is searchable by its id (the index was rebuilt from the store)…
    for (const f of faces) {
      const s = await api.call('GET', `/groups/${groupId}/faces/${f.faceId}/search?limit=1&threshold=1`);
      searches++;
      if (s.header.resultCode !== 0) problems.push(`${groupId}: search by face ${f.faceId} answered ${s.header.resultCode}`);
    }
    // …and is found by its own photo: the index holds every stored vector.
    for (const [image, bytes] of w.images) {
      if (image === 'group') continue;
      const expected = faces.filter((f) => f.externalImageId && w.ledger.registers.get(f.externalImageId)?.image === image).map((f) => f.faceId);
      if (expected.length === 0) continue;
      const s = await api.call('POST', `/groups/${groupId}/faces/search`, { image: { bytes: Buffer.from(bytes).toString('base64') }, limit: 4096, threshold: 90 });
      searches++;
      const found = new Set((s.data?.matchFaces ?? []).map((m: { face: { faceId: string } }) => m.face.faceId));
      const missing = expected.filter((id) => !found.has(id));
      if (missing.length > 0) problems.push(`${groupId}: search by the photo of ${image} misses ${missing.length} of its ${expected.length} faces`);
    }
  }
  return { problems, facesChecked, searches };
}

test(`SIGKILL ${KILLS} times under concurrent writes: every acknowledged write survives (seed ${SEED})`, { timeout: 15 * 60_000 }, async () => {
  const started = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), 'facerec-crash-'));
  const options: ServerProcessOptions = { dataDir, appKey: 'crash-app', secretKey: 'crash-secret', env: { FACEREC_WORKERS: '1' } };
  const crops = await faceCrops(8);
  assert.ok(crops.length >= 4, 'need single-face crops of the fixture photos');
  const w: World = {
    ledger: new CrashLedger(),
    images: new Map([...crops.map((c, i) => [`crop${i}`, c] as const), ['group', await groupPhoto()]]),
    groups: [],
    dynamicGroups: [],
    liveFaces: [],
  };
  const rng = seededRandom(SEED);
  const stats = { kills: 0, killedDuringStartup: 0, requests: 0, restartMs: [] as number[] };
  let server = await ServerProcess.spawn(options);
  try {
    await server.waitReady();
    let api = new NhnV2Client(server.origin, options.appKey, options.secretKey);
    for (const groupId of ['crash-a', 'crash-b']) {
      assert.equal((await api.call('POST', '/groups', { groupId })).header.resultCode, 0);
      w.ledger.groupCreates.set(groupId, 'acked');
      w.groups.push(groupId);
    }

    for (let cycle = 0; cycle < KILLS; cycle++) {
      if (cycle > 0) {
        const t0 = performance.now();
        server = await ServerProcess.spawn(options);
        if (rng() < STARTUP_KILL_SHARE) {
          // Model loading takes about a second: this lands before, during or just after it.
          await sleep(rng() * 1500);
          stats.killedDuringStartup++;
        } else {
          await server.waitReady();
          stats.restartMs.push(performance.now() - t0);
        }
      }
      let clients: Promise<number>[] = [];
      const stop = { now: false };
      if (server.running && (await isReady(server))) {
        api = new NhnV2Client(server.origin, options.appKey, options.secretKey);
        clients = Array.from({ length: CLIENTS }, (_, id) => client(id, cycle, api, w, stop));
        await sleep(300 + rng() * 1700);
      }
      assert.ok(server.running, `the server died on its own before kill ${cycle + 1}:\n${server.output()}`);
      const exit = server.stop('SIGKILL');
      stop.now = true;
      assert.equal((await exit).signal, 'SIGKILL');
      stats.requests += (await Promise.all(clients)).reduce((a, b) => a + b, 0);
      stats.kills++;
      // Right after the crash, before any recovery by the next start: SQLite must find the file sound.
      const afterCrash = checkDatabase(dataDir);
      assert.deepEqual(afterCrash.problems, [], `after kill ${cycle + 1}`);
    }

    const t0 = performance.now();
    server = await ServerProcess.spawn(options);
    await server.waitReady();
    stats.restartMs.push(performance.now() - t0);
    api = new NhnV2Client(server.origin, options.appKey, options.secretKey);
    const result = await verify(api, w);
    const exit = await server.stop('SIGTERM');
    assert.equal(exit.code, 0, `clean shutdown after the run:\n${server.output()}`);
    const db = checkDatabase(dataDir);

    const counts = w.ledger.counts();
    const restart = stats.restartMs.sort((a, b) => a - b);
    console.log(
      `kills ${stats.kills} (${stats.killedDuringStartup} during start-up), client requests ${stats.requests}, ` +
        `restart to ready median ${restart[restart.length >> 1]?.toFixed(0)} ms, whole test ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    console.log(`ledger ${JSON.stringify(counts)}`);
    console.log(`verified ${result.facesChecked} stored faces in ${db.groups} groups with ${result.searches} searches; database: ${db.faces} faces`);
    assert.deepEqual([...result.problems, ...db.problems], []);
    assert.equal(stats.kills, KILLS);
    assert.ok(counts.facesAcked > 0 && counts.registersUnknown > 0, 'the run must have acknowledged and interrupted registers');
  } finally {
    if (server.running) await server.stop('SIGKILL');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

async function isReady(server: ServerProcess): Promise<boolean> {
  try {
    const res = await fetch(`${server.origin}/ready`, { signal: AbortSignal.timeout(500) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
