// Times GET /health from a worker thread with its own event loop, so the load that the test
// generates on the main thread cannot delay the probe's callbacks: what is measured is the server.
import { Worker } from 'node:worker_threads';

// Plain JavaScript, evaluated as is: the worker needs no TypeScript loader.
const PROBE_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { url, durationMs, intervalMs } = workerData;
const probe = () => new Promise((resolve, reject) => {
  const t0 = performance.now();
  const req = http.request(url, { agent: false }, (res) => {
    res.resume();
    res.on('end', () => resolve({ ms: performance.now() - t0, status: res.statusCode }));
  });
  req.once('error', reject);
  req.end();
});
(async () => {
  const samples = [];
  const until = performance.now() + durationMs;
  while (performance.now() < until) {
    samples.push(await probe());
    await new Promise((r) => setTimeout(r, intervalMs));
  }
  parentPort.postMessage(samples);
})().catch((e) => { throw e; });
`;

export interface ProbeSample {
  ms: number;
  status: number;
}

/** Probes `url` every `intervalMs` for `durationMs` over fresh connections (as a load balancer would). */
export function probeHealth(url: string, durationMs: number, intervalMs = 20): Promise<ProbeSample[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(PROBE_SOURCE, { eval: true, execArgv: [], workerData: { url, durationMs, intervalMs } });
    worker.once('message', (samples: ProbeSample[]) => resolve(samples));
    worker.once('error', reject);
  });
}
