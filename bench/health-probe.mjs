// GET <url> every 20 ms from a process of its own, as a load balancer would: the time of each
// answer is the server's, not the time a client sharing the server's event loop would add.
// The parent (bench/scale.ts) sends 'reset', 'report' (answered with the times so far) and 'stop'.
const url = process.argv[2];
let times = [];
let running = true;
process.on('message', (message) => {
  if (message === 'reset') times = [];
  else if (message === 'report') process.send(times);
  else if (message === 'stop') running = false;
});
// The first request loads fetch's client (tens of milliseconds in a new process): not the server's time.
await fetch(url).then((r) => r.arrayBuffer());
while (running) {
  const t0 = performance.now();
  await fetch(url).then((r) => r.arrayBuffer());
  times.push(performance.now() - t0);
  await new Promise((resolve) => setTimeout(resolve, 20));
}
process.send(times, () => process.disconnect());
