/**
 * One line for bench:latency (run as its own process): how much this CPU slows down on denormal
 * floats, as the embedder alone on a fixed pseudo-random 1×3×112×112 input, keeping them and
 * flushing them. Both sessions run in parallel mode, where each graph runs on the session's own
 * pool thread, so the flag decides alone; this process's first session is made without the flag,
 * so no thread inherits the flush mode (models.ts). The probe confirms what each side did.
 */
import { flushesDenormals } from '../src/engine/denormal-probe.js';
import { loadSession, ort, sessionOptions, type SessionTuning } from '../src/engine/models.js';
import { quantile } from './common.js';

const kept: Partial<SessionTuning> = { executionMode: 'parallel', flushDenormals: false };
const flushed: Partial<SessionTuning> = { executionMode: 'parallel', flushDenormals: true };

async function medianEmbedMs(tuning: Partial<SessionTuning>, runs = 60): Promise<number> {
  const session = await loadSession('embedder', tuning);
  let seed = 12345;
  const data = new Float32Array(3 * 112 * 112).map(() => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648) * 2 - 1);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, [1, 3, 112, 112]) };
  for (let i = 0; i < 10; i++) await session.run(feeds);
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await session.run(feeds);
    times.push(performance.now() - t0);
  }
  await session.release();
  return quantile(times, 0.5);
}

const keeps = !(await flushesDenormals(sessionOptions(kept)));
const flushes = await flushesDenormals(sessionOptions(flushed));
const keptMs = await medianEmbedMs(kept);
const flushedMs = await medianEmbedMs(flushed);
const check = keeps && flushes ? 'probe confirms both' : `probe: kept=${keeps} flushed=${flushes}, not comparable`;
console.log(
  `denormal sensitivity: embedder alone ${keptMs.toFixed(1)} ms keeping denormals, ${flushedMs.toFixed(1)} ms flushing them ` +
    `(${(keptMs / flushedMs).toFixed(2)}×; parallel mode; ${check})`,
);
