/**
 * Per-stage latency of FaceEngine.analyze on the two inputs of inputs.ts (a 640x480 single face
 * and a 1920x1080 group photo), after a line that says which machine and settings produced it and
 * how sensitive this CPU is to denormal floats.
 *
 *   npm run bench:latency [-- --iterations 50]
 *
 * Stage times come from analyze's own `timings` (wall clock, summed over faces). Wall time moves
 * with whatever else runs on the machine, so the total is also given as process CPU time.
 *
 * Then the production path: the same requests one at a time through an EnginePool with the
 * server's defaults (2 workers; a lone request on its worker's two-threaded sessions, solo.ts),
 * and the same pool with lone-request sessions off, alternated request by request so that drift
 * in the machine's speed hits both alike. The targets are read on the production path.
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { FaceEngine, type AnalyzeOptions } from '../src/engine/engine.js';
import { DEFAULT_TUNING } from '../src/engine/models.js';
import { EnginePool } from '../src/engine/pool.js';
import { printHeader, quantile, table } from './common.js';
import { groupPhoto, singleFace, type BenchImage } from './inputs.js';
import { describeTuning, machineLine } from './machine.js';

const WARMUP = 5;

interface Sample {
  stages: Record<string, number>;
  wall: number;
  cpu: number;
}

async function measure(engine: FaceEngine, bytes: Uint8Array, options: AnalyzeOptions, iterations: number): Promise<{ samples: Sample[]; faces: number }> {
  let faces = 0;
  for (let i = 0; i < WARMUP; i++) faces = (await engine.analyze(bytes, options)).faces.length;
  const samples: Sample[] = [];
  for (let i = 0; i < iterations; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = await engine.analyze(bytes, { ...options, timings: true });
    const wall = performance.now() - t0;
    const c = process.cpuUsage(c0);
    samples.push({ stages: r.timings ?? {}, wall, cpu: (c.user + c.system) / 1000 });
  }
  return { samples, faces };
}

const fmt = (xs: number[]) => `${quantile(xs, 0.5).toFixed(1)} / ${quantile(xs, 0.95).toFixed(1)}`;

/** Stage order as the engine runs them; any stage it adds later is appended. */
const STAGE_ORDER = ['decode', 'detect', 'landmarks', 'align', 'embed', 'mask', 'liveness'];

function stageRows(samples: Sample[]): (string | number)[][] {
  const names = [...STAGE_ORDER, ...Object.keys(samples[0].stages).filter((s) => !STAGE_ORDER.includes(s))];
  const rows: (string | number)[][] = [];
  for (const name of names) {
    if (!samples.some((s) => name in s.stages)) continue;
    rows.push([name, fmt(samples.map((s) => s.stages[name] ?? 0))]);
  }
  return rows;
}

const sumOf = (s: Sample, stages: string[]) => stages.reduce((a, k) => a + (s.stages[k] ?? 0), 0);

async function main(): Promise<void> {
  const at = process.argv.indexOf('--iterations');
  const iterations = at > 0 ? Number(process.argv[at + 1]) : 50;
  printHeader(`analyze() latency, ms median / p95 over ${iterations} runs after ${WARMUP} warm-up runs`);
  console.log(machineLine());
  console.log(`sessions: ${describeTuning(DEFAULT_TUNING)}; first one engine in this thread, then the worker pool`);
  // Its own process: once this one has a session, ORT has fixed this thread's float mode (models.ts).
  const sensitivity = fileURLToPath(new URL('./denormal-sensitivity.ts', import.meta.url));
  console.log(execFileSync(process.execPath, ['--import', 'tsx', sensitivity], { encoding: 'utf8' }).trim());
  console.log('');
  const engine = await FaceEngine.create();
  const inputs: BenchImage[] = [await singleFace(), await groupPhoto()];

  const full: AnalyzeOptions = { embed: true, spoof: true };
  const core: AnalyzeOptions = { embed: true };
  const results = [];
  for (const input of inputs) {
    results.push({ input, full: await measure(engine, input.bytes, full, iterations), core: await measure(engine, input.bytes, core, iterations) });
  }

  const head = ['stage (embed + spoof)', ...results.map((r) => `${r.input.label} (${r.full.faces} found)`)];
  const perInput = results.map((r) => stageRows(r.full.samples));
  const rows = perInput[0].map((row, i) => [row[0], ...perInput.map((p) => p[i]?.[1] ?? '-')]);
  rows.push(['total, wall', ...results.map((r) => fmt(r.full.samples.map((s) => s.wall)))]);
  rows.push(['total, process CPU', ...results.map((r) => fmt(r.full.samples.map((s) => s.cpu)))]);
  console.log(table(head, rows));

  const coreStages = ['detect', 'landmarks', 'align', 'embed'];
  console.log('\nWithout liveness (embed only):');
  console.log(
    table(
      ['', ...results.map((r) => r.input.label)],
      [
        ['detect + landmarks + align + embed', ...results.map((r) => fmt(r.core.samples.map((s) => sumOf(s, coreStages))))],
        ['total incl. decode, wall', ...results.map((r) => fmt(r.core.samples.map((s) => s.wall)))],
        ['total incl. decode, process CPU', ...results.map((r) => fmt(r.core.samples.map((s) => s.cpu)))],
      ],
    ),
  );

  const pooled = await lonePoolRequests(inputs, core, iterations);
  console.log(`\nThe production path: one request at a time through an EnginePool of 2 workers (embed only; wall = bytes in to answer out, incl. decode and the worker hop), alternated with the same pool without lone-request sessions:`);
  const poolRows: (string | number)[][] = [];
  for (const [name, key] of [['lone request on 2 threads (default)', 'solo'], ['lone request on 1 thread (FACEREC_LONE_REQUEST_THREADS=1)', 'shared']] as const) {
    poolRows.push([`${name}: detect + landmarks + align + embed`, ...pooled.map((p) => fmt(p[key].map((s) => sumOf(s, coreStages))))]);
    poolRows.push([`${name}: wall`, ...pooled.map((p) => fmt(p[key].map((s) => s.wall)))]);
  }
  console.log(table(['', ...inputs.map((i) => i.label)], poolRows));
  const single = quantile(pooled[0].solo.map((s) => sumOf(s, coreStages)), 0.5);
  const group = quantile(pooled[1].solo.map((s) => sumOf(s, coreStages)), 0.5);
  const where = 'through the pool, a lone request (the production path)';
  console.log(`Target: detect + landmarks + align + embed p50 <= 12 ms on the 640x480 face, ${where}: ${single.toFixed(1)} ms, ${single <= 12 ? 'met' : 'NOT met'}.`);
  console.log(`Target: the same <= 60 ms on the 1920x1080 group photo, ${where}: ${group.toFixed(1)} ms, ${group <= 60 ? 'met' : 'NOT met'}.`);
}

/** Each input through two pools, one request at a time, alternating pools request by request. */
async function lonePoolRequests(inputs: BenchImage[], options: AnalyzeOptions, iterations: number): Promise<{ solo: Sample[]; shared: Sample[] }[]> {
  const solo = new EnginePool({ threads: 2, maxQueue: 4 });
  const shared = new EnginePool({ threads: 2, maxQueue: 4, soloThreads: 1 });
  try {
    await Promise.all([solo.warmup(), shared.warmup()]);
    const once = async (pool: EnginePool, bytes: Uint8Array): Promise<Sample> => {
      const t0 = performance.now();
      const r = await pool.analyze(bytes, { ...options, timings: true });
      return { stages: r.timings ?? {}, wall: performance.now() - t0, cpu: NaN };
    };
    const out = [];
    for (const input of inputs) {
      for (let i = 0; i < WARMUP; i++) for (const pool of [solo, shared]) await once(pool, input.bytes);
      const m = { solo: [] as Sample[], shared: [] as Sample[] };
      for (let i = 0; i < iterations; i++) {
        m.solo.push(await once(solo, input.bytes));
        m.shared.push(await once(shared, input.bytes));
      }
      out.push(m);
    }
    return out;
  } finally {
    await Promise.all([solo.close(), shared.close()]);
  }
}

await main();
