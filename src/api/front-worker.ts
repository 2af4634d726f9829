// The API's front (front.ts starts it): a worker thread that owns the listening socket. A single object's GET of a
// kind served as stored is answered here, from a replica of the objects clients have read, whose JSON texts the main
// thread sends again as they change (replica-feed.ts); /healthz, /livez and /readyz are answered here while the main
// thread's heartbeat is fresh. Everything else is relayed to the main thread's server on an abstract unix socket. So
// such a GET and a health check never wait for the controllers' turns or their garbage collection.
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { tokenMatches } from './auth.ts';
import { statusBody } from './responses.ts';
import { FRONT_KEEP_HEADER, FRONT_LOCAL_HEADER, FRONT_SECRET_HEADER, HEALTH_PATHS, replicaKey, routeKey, type FeedMessage, type FrontData, type HitsMessage } from './front-protocol.ts';

const data = workerData as FrontData & { feed: MessagePort; counts: MessagePort };
const { feed, counts } = data;
const routes = new Map(data.routes.map((r) => [routeKey(r.prefix, r.resource), r]));

/** Each kept object's JSON text, by replicaKey. */
const replica = new Map<string, string>();
/** When the main thread sent its last heartbeat (from its timer, so a stalled or wedged thread sends none). */
let beatAt = Date.now();

/**
 * Keys answered from the replica, told the main thread so that what is read stays kept: the first after each of its
 * heartbeats at the end of this turn, the rest with the next heartbeat (a stalled main thread gets no pile of them).
 */
const hits = new Set<string>();
let told = false;
const tellHits = () => {
  if (hits.size) feed.postMessage({ hits: [...hits] } satisfies HitsMessage);
  hits.clear();
};
const hit = (key: string) => {
  hits.add(key);
  if (!told) {
    told = true;
    setImmediate(tellHits);
  }
};

const apply = (m: FeedMessage) => {
  if (m.beat) {
    beatAt = m.beat;
    tellHits();
    told = false;
  }
  const c = m.changes;
  if (!c) return;
  for (let i = 0; i < c.length; i += 2) {
    const key = c[i]!, text = c[i + 1];
    if (text === null) replica.delete(key);
    else replica.set(key, text);
  }
};
feed.on('message', apply);
/** Takes what the main thread has sent and this thread has not handled yet (it sends a change before it answers
 * anything itself): a client never reads here an object older than one it was shown there. */
const catchUp = () => {
  for (let m = receiveMessageOnPort(feed); m; m = receiveMessageOnPort(feed)) apply(m.message as FeedMessage);
};

const TABLE = /as=Table/;

const count = (res: ServerResponse, started: bigint, labels: { group: string; version: string; resource: string; scope: string }) => {
  res.once('finish', () => counts.postMessage({ verb: 'GET', subresource: '', ...labels, code: res.statusCode, seconds: Number(process.hrtime.bigint() - started) / 1e9 }));
};

/** The objects answered here: GET of a named object of a replicated kind, as served (no table, query or body). One
 * not kept here is relayed with FRONT_KEEP_HEADER: the main thread sends it, and its changes, from then on. */
function answered(req: IncomingMessage, res: ServerResponse): boolean {
  // A body (the main thread's 413 past its limit), a query, an escape, a table, kubectl's node commands: its answers.
  if (req.method !== 'GET' || req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) return false;
  const url = req.url ?? '';
  const started = process.hrtime.bigint();
  if (HEALTH_PATHS.has(url.split('?')[0])) {
    catchUp();
    if (Date.now() - beatAt > data.mainStallMs) return false;
    count(res, started, { group: '', version: '', resource: '', scope: '' });
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    return true;
  }
  if (url.includes('?') || url.includes('%') || req.headers['kubectl-command'] !== undefined || TABLE.test(req.headers.accept ?? '')) return false;
  // /api/v1[/namespaces/{ns}]/{resource}/{name} and /apis/{group}/{version}[/namespaces/{ns}]/{resource}/{name}
  const m = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)(?:\/namespaces\/([^/]+))?\/([^/]+)\/([^/]+)$/.exec(url);
  const route = m && routes.get(routeKey(m[1], m[3]));
  if (!m || !route || route.namespaced !== (m[2] !== undefined)) return false;
  if (!data.open && !tokenMatches(req, data.token)) return false;
  catchUp();
  const key = replicaKey(route.kind, m[2] ?? '', m[4]);
  const text = replica.get(key);
  if (text === undefined) {
    req.headers[FRONT_KEEP_HEADER] = '1'; // the main thread answers it (a 404 as any other) and sends it here if found
    return false;
  }
  hit(key);
  count(res, started, { group: route.group, version: route.version, resource: route.resource, scope: 'resource' });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return true;
}

const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
/** Hop-by-hop headers: each connection's own, never relayed (node's server has already answered an `expect`). */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'expect']);
/** The front's own words to the main thread: never a client's. */
const OWN = new Set([FRONT_LOCAL_HEADER, FRONT_SECRET_HEADER]);

/** The front's answer when the main thread's server cannot be reached. */
const unanswered = (e: Error) => JSON.stringify(statusBody(503, `the API's main thread did not answer: ${e.message}`, undefined, 'ServiceUnavailable'));

/** Relays a request to the main thread's server and its answer back, streamed both ways (watches, log follows). */
function relay(req: IncomingMessage, res: ServerResponse): void {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP.has(k) && !OWN.has(k)) headers[k] = v;
  headers[FRONT_LOCAL_HEADER] = `${req.socket.localAddress}:${req.socket.localPort}`;
  headers[FRONT_SECRET_HEADER] = data.secret;
  const up = request({ socketPath: data.internal, agent, method: req.method, path: req.url, headers }, (answer) => {
    const out: string[] = [];
    for (let i = 0; i < answer.rawHeaders.length; i += 2) {
      const k = answer.rawHeaders[i].toLowerCase();
      if (!HOP.has(k)) out.push(answer.rawHeaders[i], answer.rawHeaders[i + 1]);
      else if (k === 'connection' && /\bclose\b/i.test(answer.rawHeaders[i + 1])) out.push('connection', 'close');
    }
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
    res.flushHeaders(); // a watch's client sees its 200 before the first event
    answer.pipe(res);
    answer.on('error', () => res.destroy());
    // Answered before the body was taken (a 413 with connection: close): the rest of the body goes nowhere.
    answer.on('end', () => req.unpipe(up));
  });
  up.on('error', (e) => {
    if (res.writableEnded) return; // the main thread closed after its whole answer (a 413 left the body unread)
    if (res.headersSent) return void res.destroy();
    const text = unanswered(e);
    res.writeHead(503, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    res.end(text);
  });
  res.on('close', () => { if (!res.writableFinished) up.destroy(); });
  req.pipe(up);
}

/** An upgrade (exec, attach, port-forward) goes to the main thread as it came; its answer comes back as it is. */
function relayUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
  const up: Socket = connect(data.internal);
  let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const k = req.rawHeaders[i].toLowerCase();
    if (!OWN.has(k) && k !== FRONT_KEEP_HEADER) text += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
  }
  up.write(`${text}${FRONT_LOCAL_HEADER}: ${(socket as Socket).localAddress}:${(socket as Socket).localPort}\r\n${FRONT_SECRET_HEADER}: ${data.secret}\r\n\r\n`);
  if (head.length) up.write(head);
  up.pipe(socket);
  socket.pipe(up);
  up.on('error', (e) => {
    // Nothing came back yet (the main thread's server is gone): the client hears why, as relay()'s would.
    if (up.bytesRead || !socket.writable) return void socket.destroy();
    const body = unanswered(e);
    socket.end(`HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
  });
  socket.on('error', () => up.destroy());
}

const onRequest = (req: IncomingMessage, res: ServerResponse) => {
  delete req.headers[FRONT_KEEP_HEADER]; // the front's own word to the main thread (relay() drops the others)
  let done = false;
  try {
    done = answered(req, res);
  } catch (e) {
    // A fault of the front's own: the main thread answers instead (front.ts restarts a thread that dies of one).
    console.error(`convergit: the API's front failed to answer ${req.method} ${req.url}: ${(e as Error).stack ?? e}`);
    if (res.headersSent) return void res.destroy();
  }
  if (!done) relay(req, res);
};
const server = data.tls ? createTlsServer({ ...data.serverOptions, cert: data.tls.cert, key: data.tls.key }, onRequest) : createServer(data.serverOptions, onRequest);
server.maxHeadersCount = 200;
server.on('upgrade', relayUpgrade);
let listening = false;
server.on('error', (e) => {
  if (!listening) return void parentPort!.postMessage({ error: e.message, code: (e as NodeJS.ErrnoException).code });
  console.error(`convergit: the API's front: ${e.message}`);
});
server.listen(data.port, data.host, () => {
  listening = true;
  parentPort!.postMessage({ port: (server.address() as { port: number }).port });
});
parentPort!.on('message', (m: { close?: boolean }) => {
  if (!m.close) return;
  server.close(() => { agent.destroy(); parentPort!.postMessage({ closed: true }); });
  server.closeAllConnections();
});
