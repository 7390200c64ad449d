// Worker entry for denormals.test.ts: runs the denormal probe on a fresh thread, as an inference
// worker would. CommonJS on purpose: inside worker threads the tsx loader hooks `require` (piscina
// loads the engine worker the same way), not the entry point or `import()`.
const { parentPort, workerData } = require('node:worker_threads');
const { flushesDenormals } = require(workerData.probe);

flushesDenormals(workerData.options).then((flushes) => parentPort.postMessage(flushes));
