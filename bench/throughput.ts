/**
 * Single-image latency and sustained throughput of the worker pool under different ONNX Runtime
 * settings, side by side: workers × intra-op threads, execution mode, graph optimisation, memory
 * arena, spinning; plus the cost of the hop into a worker (the same engine in this thread). What
 * denormals cost is bench:latency's line: once a pool exists this process flushes them everywhere.
 * The work is detect + landmarks + align + embed on the 640×480 single-face photo (what register,
 * search by image and verify do per request).
 *
 *   npm run bench:throughput [-- --seconds 4] [-- --rounds 3] [-- --only default,1x2]
 *
 * "single": one request at a time, 20 of them (latency as one user sees it on an idle server; a
 * lone request runs on its worker's two-threaded sessions unless the variant says otherwise, solo.ts).
 * "sustained": 2 requests in flight per worker for --seconds (the pool's capacity in images/s).
 * A shared 2-core VM's speed drifts by tens of per cent within minutes, so the variants run
 * round-robin for --rounds rounds and each figure is the median over rounds (each round's
 * images/s is printed too, so the spread shows).
 */
import { FaceEngine, type AnalyzeOptions } from '../src/engine/engine.js';
import { DEFAULT_TUNING, type SessionTuning } from '../src/engine/models.js';
import { DEFAULT_SOLO_THREADS, EnginePool } from '../src/engine/pool.js';
import { printHeader, quantile, table } from './common.js';
import { singleFace } from './inputs.js';
import { describeTuning, machineLine } from './machine.js';

interface Variant {
  name: string;
  workers: number;
  tuning: Partial<SessionTuning>;
  /** Threads of a lone request's sessions (pool.ts soloThreads); the pool's default when absent. */
  soloThreads?: number;
}

const VARIANTS: Variant[] = [
  { name: 'default', workers: 2, tuning: {} },
  { name: 'no-solo', workers: 2, tuning: {}, soloThreads: 1 },
  { name: '1x2', workers: 1, tuning: { intraOpThreads: 2 } },
  { name: '2x2', workers: 2, tuning: { intraOpThreads: 2 } },
  { name: '1x1', workers: 1, tuning: {} },
  { name: 'parallel', workers: 2, tuning: { executionMode: 'parallel' } },
  { name: 'spinning', workers: 2, tuning: { spinning: true } },
  { name: 'opt-extended', workers: 2, tuning: { graphOptimization: 'extended' } },
  { name: 'no-arena', workers: 2, tuning: { cpuArena: false } },
];

const SINGLE_RUNS = 20;
const OPTIONS: AnalyzeOptions = { embed: true };

const arg = (name: string) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const ms = (x: number) => x.toFixed(1);

async function single(analyze: (b: Uint8Array) => Promise<unknown>, bytes: Uint8Array): Promise<number[]> {
  for (let i = 0; i < 5; i++) await analyze(bytes);
  const times: number[] = [];
  for (let i = 0; i < SINGLE_RUNS; i++) {
    const t0 = performance.now();
    await analyze(bytes);
    times.push(performance.now() - t0);
  }
  return times;
}

async function sustained(pool: EnginePool, bytes: Uint8Array, seconds: number): Promise<{ perSecond: number; latencies: number[] }> {
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const t0 = performance.now();
  const lane = async () => {
    while (performance.now() < end) {
      const t = performance.now();
      await pool.analyze(bytes, OPTIONS);
      latencies.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: 2 * pool.threads }, lane));
  return { perSecond: latencies.length / ((performance.now() - t0) / 1000), latencies };
}

interface Measured {
  single: number[];
  perSecond: number;
  latencies: number[];
  flushed: string;
}

async function measureVariant(v: Variant, image: Uint8Array, seconds: number): Promise<Measured> {
  const pool = new EnginePool({ threads: v.workers, maxQueue: 64, tuning: v.tuning, ...(v.soloThreads ? { soloThreads: v.soloThreads } : {}) });
  try {
    await pool.warmup();
    const checks = await pool.selfCheck();
    const flushed = `${checks.filter((c) => c.flushesDenormals && c.soloFlushesDenormals !== false).length} of ${checks.length}`;
    const single1 = await single((b) => pool.analyze(b, OPTIONS), image);
    const load = await sustained(pool, image, seconds);
    return { single: single1, perSecond: load.perSecond, latencies: load.latencies, flushed };
  } finally {
    await pool.close();
  }
}

const median = (xs: number[]) => quantile(xs, 0.5);

async function main(): Promise<void> {
  const seconds = Number(arg('seconds') ?? 4);
  const rounds = Number(arg('rounds') ?? 3);
  const only = arg('only')?.split(',');
  printHeader(
    `Worker pool: detect + landmarks + align + embed on the 640x480 face; single = one at a time (${SINGLE_RUNS} runs), ` +
      `sustained = 2 in flight per worker for ${seconds} s; medians over ${rounds} round-robin rounds`,
  );
  console.log(machineLine());
  const image = await singleFace();
  const variants = VARIANTS.filter((x) => !only || only.includes(x.name));
  const results = new Map<string, Measured[]>(variants.map((v) => [v.name, []]));
  for (let r = 0; r < rounds; r++) {
    for (const v of variants) results.get(v.name)!.push(await measureVariant(v, image.bytes, seconds));
    console.error(`round ${r + 1} of ${rounds} done`);
  }
  const rows = variants.map((v) => {
    const m = results.get(v.name)!;
    return [
      v.name,
      `${v.workers}×${v.tuning.intraOpThreads ?? DEFAULT_TUNING.intraOpThreads}, alone ${v.soloThreads ?? DEFAULT_SOLO_THREADS}`,
      describeTuning({ ...DEFAULT_TUNING, ...v.tuning }),
      m[0].flushed,
      `${ms(median(m.map((x) => quantile(x.single, 0.5))))} / ${ms(median(m.map((x) => quantile(x.single, 0.95))))}`,
      `${median(m.map((x) => x.perSecond)).toFixed(1)} (${m.map((x) => x.perSecond.toFixed(0)).join(', ')})`,
      `${ms(median(m.map((x) => quantile(x.latencies, 0.5))))} / ${ms(median(m.map((x) => quantile(x.latencies, 0.99))))}`,
    ];
  });
  console.log(
    table(['variant', 'workers × intra-op, a lone request', 'sessions', 'workers flushing denormals', 'single p50 / p95 ms', 'sustained images/s (each round)', 'sustained p50 / p99 ms'], rows),
  );

  // The hop into a worker: the same analysis in this thread and through a 1-worker pool,
  // alternated call by call so that drift in the machine's speed hits both alike.
  if (!only || only.includes('hop')) {
    const engine = await FaceEngine.create();
    const pool = new EnginePool({ threads: 1, maxQueue: 4 });
    try {
      await pool.warmup();
      const direct: number[] = [];
      const viaPool: number[] = [];
      const time = async (run: () => Promise<unknown>, into: number[]) => {
        const t0 = performance.now();
        await run();
        into.push(performance.now() - t0);
      };
      for (let i = 0; i < 5; i++) await Promise.all([engine.analyze(image.bytes, OPTIONS), pool.analyze(image.bytes, OPTIONS)]);
      for (let i = 0; i < 2 * SINGLE_RUNS; i++) {
        await time(() => engine.analyze(image.bytes, OPTIONS), direct);
        await time(() => pool.analyze(image.bytes, OPTIONS), viaPool);
      }
      const hop = quantile(viaPool, 0.5) - quantile(direct, 0.5);
      console.log(`\nworker hop: ${ms(quantile(direct, 0.5))} ms in this thread vs ${ms(quantile(viaPool, 0.5))} ms through a 1-worker pool, p50: ${hop.toFixed(2)} ms per image (image bytes in, faces and vectors out)`);
    } finally {
      await pool.close();
    }
  }
}

await main();
