// Binds a listener on the first port of a list that it can: 80, else 8080, else any free port (and the same for
// 443) when the user named none, so serve starts as a non-root user or beside a web server; the one port named
// by --ingress-port otherwise, which must bind.
import type { Server } from 'node:net';

export interface Bound { port: number; /** The ports tried before, each with why it could not be used. */ skipped: string[] }

export const DEFAULT_HTTP_PORTS = [80, 8080, 0];
export const DEFAULT_HTTPS_PORTS = [443, 8443, 0];

function listenOnce(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port });
  });
}

export async function listenFirst(server: Server, host: string, ports: readonly number[]): Promise<Bound> {
  const skipped: string[] = [];
  for (const [i, port] of ports.entries()) {
    try {
      return { port: await listenOnce(server, host, port), skipped };
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (i === ports.length - 1) throw new Error(`can't listen on ${host}:${port}: ${err.code ?? err.message}`);
      skipped.push(`${port}: ${err.code === 'EACCES' ? 'EACCES (a port below 1024 needs root or CAP_NET_BIND_SERVICE)' : err.code ?? err.message}`);
    }
  }
  throw new Error('no port to listen on');
}
