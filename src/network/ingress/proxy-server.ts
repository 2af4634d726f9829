// The ingress listener's HTTP and HTTPS servers: each request (and websocket upgrade) is resolved to a pod
// endpoint or to a status, then proxied with http-proxy-3, which streams bodies both ways and sets
// X-Forwarded-For/-Host/-Port/-Proto. The original Host header goes to the backend, as ingress-nginx sends it.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import tls, { type SecureContext } from 'node:tls';
import { createProxyServer } from 'http-proxy-3';
import { podConnection, type PodNetwork } from '../../netns/pod-network.ts';

export interface Endpoint { ip: string; port: number }

/**
 * Where a request goes: ready pod endpoints of a Service (`namespace/name`), the first to try first; or a status
 * (404: no rule, 503: none ready).
 */
export type Resolution = { endpoints: Endpoint[]; service: string } | { status: 404 | 503; message: string };

/** A request or websocket in flight, counted for the drain (network/drain-tracker.ts). */
export interface InFlight { to(endpoints: Endpoint[]): void; end(): void }

/**
 * A request that could not connect goes to the next endpoint, at most this many in all, as ingress-nginx's
 * proxy_next_upstream (error, timeout; 3 tries) does, when it is safe: an idempotent method, nothing answered yet
 * (a connection reset before any answer counts: the pod went away).
 */
const TRIES = 3;
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS']);
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT']);
const hostPort = (e: Endpoint) => `${e.ip.includes(':') ? `[${e.ip}]` : e.ip}:${e.port}`;

export interface IngressServersOptions {
  resolve(host: string | undefined, path: string): Resolution;
  /** The TLS context for an SNI name; undefined: the default certificate's. */
  contextFor(servername: string | undefined): SecureContext | undefined;
  /** The certificate for names no Secret serves and for clients that send no SNI; asked for on first use. */
  defaultCertificate(): Promise<{ cert: string; key: string }>;
  /** Counts a request to a Service until it ends: a leaving pod is stopped only once none still goes to it. */
  begin(service: string, endpoints: Endpoint[]): InFlight;
  log(m: string): void;
  /** Where the pods are, when not in this network namespace (rootless podman's). */
  podNetwork?: PodNetwork;
}

export interface IngressServers {
  http: http.Server;
  /** The TLS port's listener: it hands each connection to the HTTPS server once the default certificate exists. */
  https: net.Server;
  /** Ends every open connection (the servers must be closed by the caller). */
  destroyConnections(): void;
}

const TEXT: Record<number, string> = { 404: 'default backend - 404', 502: 'bad gateway', 503: 'service unavailable' };

function answer(res: ServerResponse, status: number, detail?: string): void {
  if (res.headersSent) return void res.destroy();
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(`${TEXT[status] ?? status}${detail ? `: ${detail}` : ''}\n`);
}

export function createIngressServers(opts: IngressServersOptions): IngressServers {
  // Rootless podman: connections to endpoints are made in the pods' namespace (netns/pod-network.ts).
  let agent: http.Agent | undefined;
  if (opts.podNetwork) {
    agent = new http.Agent();
    (agent as unknown as { createConnection: unknown }).createConnection = podConnection(opts.podNetwork, 10_000);
  }
  const proxy = createProxyServer({ xfwd: true, ws: true, ...(agent && { agent }) });
  // Connection and Keep-Alive are hop-by-hop (RFC 9110 §7.6.1). Each request has a connection of its own to its
  // pod (nothing idle to a leaving pod is ever reused), and the pod's `Connection: close` for it must not close the
  // client's kept-alive connection to the ingress, which outlives every pod.
  proxy.on('proxyRes', (proxyRes) => {
    delete proxyRes.headers.connection;
    delete proxyRes.headers['keep-alive'];
  });
  const sockets = new Set<Socket>();
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const to = opts.resolve(req.headers.host, req.url ?? '/');
    if ('status' in to) return answer(res, to.status, to.message);
    const tries = Math.min(TRIES, to.endpoints.length);
    // Counted from the moment its endpoints were chosen (the same cache the drain reads) until the answer is over.
    const use = opts.begin(to.service, to.endpoints.slice(0, tries));
    res.once('close', () => use.end());
    const attempt = (i: number) => {
      const e = to.endpoints[i];
      use.to(to.endpoints.slice(i, tries));
      proxy.web(req, res, { target: `http://${hostPort(e)}` }, (err) => {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (i + 1 < tries && !res.headersSent && IDEMPOTENT.has(req.method ?? '') && NOT_CONNECTED.has(code)) return attempt(i + 1);
        opts.log(`${req.headers.host ?? ''}${req.url}: ${hostPort(e)}: ${(err as Error).message}`);
        answer(res as ServerResponse, 502);
      });
    };
    attempt(0);
  };
  const onUpgrade = (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => {});
    const to = opts.resolve(req.headers.host, req.url ?? '/');
    if ('status' in to) return void socket.end(`HTTP/1.1 ${to.status} ${to.status === 404 ? 'Not Found' : 'Service Unavailable'}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    const use = opts.begin(to.service, to.endpoints.slice(0, 1));
    socket.once('close', () => use.end());
    proxy.ws(req, socket, head, { target: `ws://${hostPort(to.endpoints[0])}` }, () => socket.destroy());
  };

  const plain = http.createServer(onRequest);
  let defaultContext: SecureContext | undefined;
  const secure = https.createServer({
    SNICallback: (name, cb) => cb(null, opts.contextFor(name) ?? defaultContext!),
  }, onRequest);
  let made: Promise<void> | undefined;
  const defaultMade = () => (made ??= opts.defaultCertificate().then((c) => {
    secure.setSecureContext(c); // for clients without SNI
    defaultContext = tls.createSecureContext(c);
  }));
  const tlsPort = net.createServer({ pauseOnConnect: true }, (socket) => {
    track(socket);
    defaultMade().then(() => secure.emit('connection', socket), (err) => {
      opts.log(`no default certificate: ${err?.message ?? err}`);
      socket.destroy();
    });
  });
  plain.on('connection', track);
  for (const s of [plain, secure]) {
    s.on('upgrade', onUpgrade);
    s.on('clientError', (_err, socket) => socket.destroy());
  }
  return {
    http: plain,
    https: tlsPort,
    destroyConnections() {
      for (const s of sockets) s.destroy();
      proxy.close?.();
    },
  };
}
