// Run as its own process by denormals.test.ts (ORT's flush-to-zero "once" is per process): shows
// that the probe sees denormals where nothing flushes them, and that the session flag alone does
// not reach a worker thread once the process's first session was made without it.
import { flushesDenormals } from '../../src/engine/denormal-probe.js';
import { sessionOptions } from '../../src/engine/models.js';
import { probeInWorker } from './denormal-probe-in-worker.js';

const sequential = { executionMode: 'sequential', flushDenormals: false } as const;
const mainWithoutFlag = await flushesDenormals(sessionOptions(sequential));
const workerWithFlag = await probeInWorker(sessionOptions({ ...sequential, flushDenormals: true }));
process.stdout.write(JSON.stringify({ mainWithoutFlag, workerWithFlag }));
