// Local HTTP servers on 127.0.0.1 for image-URL tests, with counters of what reached them.
import http from 'node:http';
import type { Server } from 'node:net';

export interface LocalOrigin {
  origin: string;
  port: number;
  /** TCP connections accepted: "nothing reached it" means this stays 0, not just no request. */
  connections: number;
  requests: number;
  close(): Promise<void>;
}

/**
 * Starts `handler` on 127.0.0.1. By default on a port NHN allows in image URLs (10000–12000);
 * `anyPort` takes whatever the system gives (to test the port rule).
 */
export async function startLocalOrigin(handler: http.RequestListener, options: { anyPort?: boolean } = {}): Promise<LocalOrigin> {
  const server = http.createServer((req, res) => {
    state.requests++;
    handler(req, res);
  });
  const state: LocalOrigin = {
    origin: '',
    port: 0,
    connections: 0,
    requests: 0,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server.on('connection', () => state.connections++);
  state.port = options.anyPort ? await listen(server, 0) : await listenOnNhnPort(server);
  state.origin = `http://127.0.0.1:${state.port}`;
  return state;
}

async function listenOnNhnPort(server: Server): Promise<number> {
  for (let attempt = 0; attempt < 25; attempt++) {
    const port = 10000 + Math.floor(Math.random() * 2001);
    if (await listen(server, port).then(() => true, (e: NodeJS.ErrnoException) => (e.code === 'EADDRINUSE' ? false : Promise.reject(e)))) return port;
  }
  throw new Error('no free port in 10000–12000');
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (e: Error) => {
      server.off('listening', onListening);
      reject(e);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    };
    server.once('error', onError).once('listening', onListening).listen(port, '127.0.0.1');
  });
}
