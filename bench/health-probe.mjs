// GET a server's /health every 20 ms from a process of its own, as a load balancer would: the time
// of each answer is the server's, not the time a client sharing the server's event loop would add.
// Protocol with the parent (bench/scale.ts): this process says 'booted' once it is ready to probe;
// the parent sends { url }, this process answers 'probing' after a first, uncounted request; then
// 'reset', 'report' (answered with the times so far) and 'stop'.
import { createServer } from 'node:http';

let times = [];
let running = true;

// Loading fetch's client takes tens of milliseconds in a new process: done against a server of
// this process's own, before the parent starts what it measures.
const own = createServer((_, res) => res.end('ok'));
await new Promise((resolve) => own.listen(0, '127.0.0.1', resolve));
await fetch(`http://127.0.0.1:${own.address().port}/`).then((r) => r.arrayBuffer());
own.close();

process.on('message', (message) => {
  if (message === 'reset') times = [];
  else if (message === 'report') process.send(times);
  else if (message === 'stop') running = false;
  else if (message && typeof message === 'object' && 'url' in message) void probe(message.url);
});
process.send('booted');

async function probe(url) {
  // The server's first request compiles its route: not a stall of its event loop.
  await fetch(url).then((r) => r.arrayBuffer());
  process.send('probing');
  while (running) {
    const t0 = performance.now();
    await fetch(url).then((r) => r.arrayBuffer());
    times.push(performance.now() - t0);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  process.send(times, () => process.disconnect());
}
