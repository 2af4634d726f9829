import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import net from 'node:net';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';
import { PROXY_PORTS_META, startServiceProxy, type ServiceProxy } from '../../src/network/proxy.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';
import { backend, deadPort, holdOpen, randomAddress, request, type Backend } from './tcp.ts';

const proxies: ServiceProxy[] = [];
const backends: Backend[] = [];
test.after.each(async () => {
  await Promise.allSettled(proxies.splice(0).map((p) => p.stop()));
  await Promise.allSettled(backends.splice(0).map((b) => b.close()));
  await cleanup();
});

async function be(name: string): Promise<Backend> {
  const b = await backend(name);
  backends.push(b);
  return b;
}

const svc = (name: string, clusterIP: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { clusterIP, clusterIPs: [clusterIP], selector: { app: name }, ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], ...spec },
});

type Addr = { ip: string; port: number };
const endpoints = (name: string, ready: Addr[], notReady: Addr[] = [], portName = 'http'): KubeObject => ({
  apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: 'default' },
  // One subset per backend port, as the endpoints controller groups them.
  subsets: [...ready.map((a) => ({ r: a })), ...notReady.map((a) => ({ n: a }))].map(({ r, n }: any) => ({
    ...(r && { addresses: [{ ip: r.ip, targetRef: { kind: 'Pod', namespace: 'default', name: `pod-${r.port}` } }] }),
    ...(n && { notReadyAddresses: [{ ip: n.ip }] }),
    ports: [{ name: portName, port: (r ?? n).port, protocol: 'TCP' }],
  })),
});

async function start(store: Store, o: { nodeHost?: string; listenRetryMs?: number; nodeAddresses?: boolean } = {}) {
  const lines: string[] = [];
  const p = await startServiceProxy({ store, connectTimeoutMs: 500, ...o, log: (m) => lines.push(m) });
  proxies.push(p);
  return Object.assign(p, { lines });
}

const listeningOn = (p: ServiceProxy, address: string, port: number) =>
  until(() => p.listening().find((l) => l.address === address && l.port === port), `the proxy to listen on ${address}:${port}`, 3000);

test('balances connections round-robin across ready endpoints; half-close passes through', async () => {
  const { store } = await freshStore();
  const [b1, b2] = [await be('b1'), await be('b2')];
  const ip = randomAddress(2);
  await store.create(svc('web', ip));
  await store.create(endpoints('web', [b1, b2]));
  const p = await start(store);
  assert.equal(await listeningOn(p, ip, 8080), { address: ip, port: 8080, service: 'default/web', portName: 'http', kind: 'clusterIP', protocol: 'TCP' });
  const replies = [];
  for (let i = 0; i < 4; i++) replies.push(await request(ip, 8080, `r${i}`));
  // The backend replies only after the client's FIN: the reply proves both half-closes went through.
  assert.equal(replies.map((r) => r.replace(/^b\d:/, '')), ['r0', 'r1', 'r2', 'r3']);
  assert.equal(replies.map((r) => r.slice(0, 2)).sort(), ['b1', 'b1', 'b2', 'b2']);
  assert.is.not(replies[0].slice(0, 2), replies[1].slice(0, 2), 'alternating');
});

test('a refused endpoint is skipped for the next one; notReadyAddresses are never used', async () => {
  const { store } = await freshStore();
  const good = await be('good');
  const notReady = await be('not-ready');
  const deadIp = randomAddress(1);
  const dead = { ip: deadIp, port: await deadPort(deadIp) };
  const ip = randomAddress(2);
  await store.create(svc('web', ip));
  await store.create(endpoints('web', [dead, good], [notReady]));
  const p = await start(store);
  await listeningOn(p, ip, 8080);
  for (let i = 0; i < 4; i++) assert.is(await request(ip, 8080), 'good:hi');
  assert.ok(p.lines.some((l) => l.includes(`endpoint ${dead.ip}:${dead.port} failed`)), p.lines.join('\n'));

  // Every endpoint refusing: the client's connection is closed, not left hanging.
  await good.close();
  assert.match(await request(ip, 8080), /^(error ECONNRESET|closed without a reply)$/);
});

test('no ready endpoints (or no Endpoints at all): the connection is closed', async () => {
  const { store } = await freshStore();
  const notReady = await be('not-ready');
  const [ip1, ip2] = [randomAddress(2), randomAddress(2)];
  await store.create(svc('starting', ip1));
  await store.create(endpoints('starting', [], [notReady]));
  await store.create(svc('orphan', ip2));
  const p = await start(store);
  await listeningOn(p, ip1, 8080);
  await listeningOn(p, ip2, 8080);
  assert.match(await request(ip1, 8080), /^(error ECONNRESET|closed without a reply)$/);
  assert.match(await request(ip2, 8080), /^(error ECONNRESET|closed without a reply)$/);
  assert.is(notReady.open.size, 0);
  assert.ok(p.lines.some((l) => l === 'default/starting:http: no ready endpoints; closing the client connection'), p.lines.join('\n'));
});

test('an Endpoints change applies to the next connection; ports are matched by name', async () => {
  const { store } = await freshStore();
  const [b1, b2, metrics] = [await be('b1'), await be('b2'), await be('metrics')];
  const ip = randomAddress(2);
  await store.create(svc('web', ip, { ports: [{ name: 'http', port: 8080 }, { name: 'metrics', port: 9090 }] }));
  const p = await start(store);
  await listeningOn(p, ip, 8080);
  await listeningOn(p, ip, 9090);
  const eps = endpoints('web', [b1]);
  (eps.subsets as any[]).push({ addresses: [{ ip: metrics.ip }], ports: [{ name: 'metrics', port: metrics.port }] });
  await store.create(eps);
  assert.is(await request(ip, 8080), 'b1:hi');
  assert.is(await request(ip, 9090), 'metrics:hi');

  const cur = (await store.get('Endpoints', 'default', 'web'))!;
  (cur.subsets as any[])[0] = { addresses: [{ ip: b2.ip }], ports: [{ name: 'http', port: b2.port }] };
  await store.update(cur);
  await until(async () => (await request(ip, 8080)) === 'b2:hi', 'b2 to answer');
  assert.is(await request(ip, 8080), 'b2:hi');
  assert.is(await request(ip, 9090), 'metrics:hi');
});

test('NodePort Services also listen on the node host; an unnamed port takes the subset\'s only port', async () => {
  const { store } = await freshStore();
  const b = await be('b');
  const ip = randomAddress(2);
  const nodeHost = randomAddress(3);
  await store.create(svc('web', ip, { type: 'NodePort', ports: [{ port: 8080, nodePort: 30080 }] }));
  await store.create(endpoints('web', [b], [], undefined as unknown as string));
  const p = await start(store, { nodeHost });
  assert.equal(await listeningOn(p, nodeHost, 30080), { address: nodeHost, port: 30080, service: 'default/web', portName: '', kind: 'nodePort', protocol: 'TCP' });
  assert.is(await request(nodeHost, 30080), 'b:hi');
  assert.is(await request(ip, 8080), 'b:hi');
});

test('listeners follow the Services: a new port opens, a removed port or Service closes', async () => {
  const { store } = await freshStore();
  const b = await be('b');
  const ip = randomAddress(2);
  const p = await start(store);
  await store.create(svc('web', ip));
  await store.create(endpoints('web', [b]));
  await listeningOn(p, ip, 8080);
  assert.is(await request(ip, 8080), 'b:hi');

  const cur = (await store.get('Service', 'default', 'web'))!;
  cur.spec.ports = [{ name: 'http', port: 8081 }, { name: 'dns', port: 8081, protocol: 'UDP' }];
  await store.update(cur);
  await listeningOn(p, ip, 8081);
  await until(async () => (await request(ip, 8080)) === 'error ECONNREFUSED', 'port 8080 to close');
  assert.is(await request(ip, 8081), 'b:hi');
  await until(() => p.listening().length === 2, 'the UDP port too');
  assert.equal(p.listening().map((l) => `${l.port}/${l.protocol}`).sort(), ['8081/TCP', '8081/UDP'], 'one port number, both protocols');

  await store.delete('Service', 'default', 'web');
  await until(() => p.listening().length === 0, 'no listeners');
  assert.is(await request(ip, 8081), 'error ECONNREFUSED');
});

test('a port that cannot be opened is a Warning event on the Service, retried until it frees up', async () => {
  const { store } = await freshStore();
  const b = await be('b');
  const ip = randomAddress(2);
  const squatter = await be('squatter'); // holds ip:port before the proxy wants it
  await new Promise<void>((resolve) => squatter.server.close(() => resolve()));
  await new Promise<void>((resolve) => squatter.server.listen(8080, ip, () => resolve()));
  const p = await start(store, { listenRetryMs: 20 });
  await store.create(svc('web', ip));
  await store.create(endpoints('web', [b]));
  const ev = await until(async () => (await store.list('Event'))[0], 'a Warning event');
  assert.is(ev.type, 'Warning');
  assert.is(ev.reason, 'FailedToOpenPort');
  // It names the holder: this test's own process.
  assert.ok(String(ev.message).startsWith(`can't open port ${ip}:8080/TCP (clusterIP for default/web:http): ${ip}:8080 is held by pid ${process.pid} (`), String(ev.message));
  const conflicts: any[] = await until(async () => { const c = await store.getMeta<any[]>(PROXY_PORTS_META); return c?.length ? c : undefined; }, 'the conflict recorded for /status');
  assert.equal(conflicts.map((c: any) => [c.address, c.port, c.kind, c.service, c.heldBy.startsWith(`pid ${process.pid}`)]), [[ip, 8080, 'clusterIP', 'default/web', true]]);
  assert.equal(ev.involvedObject, { apiVersion: 'v1', kind: 'Service', namespace: 'default', name: 'web', uid: (await store.get('Service', 'default', 'web'))!.metadata.uid });
  assert.equal(p.listening(), []);

  await squatter.close();
  await listeningOn(p, ip, 8080);
  assert.is(await request(ip, 8080), 'b:hi');
  assert.is((await store.list('Event'))[0].count, 1, 'retries are not reported again');
  await until(async () => (await store.getMeta<any[]>(PROXY_PORTS_META))?.length === 0, 'the conflict cleared once the port opened');

  // A second Service on the same clusterIP and port (a git-given clusterIP the allocator refused) cannot have it.
  await store.create({ ...svc('copy', ip), metadata: { name: 'copy', namespace: 'default' } });
  await until(async () => (await store.list('Event')).some((e) => (e.involvedObject as any).name === 'copy'), 'a warning for copy');
  const copyEv = (await store.list('Event')).find((e) => (e.involvedObject as any).name === 'copy')!;
  assert.is(copyEv.message, `can't open port ${ip}:8080/TCP (clusterIP for default/copy:http): it is already used by Service default/web`);
  assert.is(await request(ip, 8080), 'b:hi', 'the first keeps serving');
});

test('the backend may half-close first and still read; a client reset tears the backend side down', async () => {
  const { store } = await freshStore();
  const ip = randomAddress(2);
  // Says goodbye at once, then keeps reading what the client sends after that.
  const heard: string[] = [];
  const early = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('error', () => {});
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('end', () => heard.push(got));
    s.end('bye');
  });
  const beIp = randomAddress(1);
  await new Promise<void>((resolve) => early.listen(0, beIp, () => resolve()));
  const bePort = (early.address() as net.AddressInfo).port;
  await store.create(svc('web', ip));
  await store.create(endpoints('web', [{ ip: beIp, port: bePort }]));
  const p = await start(store);
  await listeningOn(p, ip, 8080);
  try {
    const c = net.connect({ host: ip, port: 8080, allowHalfOpen: true });
    c.on('error', () => {});
    let reply = '';
    c.on('data', (d) => { reply += d; });
    await new Promise<void>((resolve) => c.once('end', resolve));
    assert.is(reply, 'bye');
    c.end('still talking');
    await until(() => heard.length === 1, 'the backend to read to the end');
    assert.equal(heard, ['still talking']);

  } finally {
    early.close();
  }

  // A backend that never hangs up on its own: only a reset passed on by the proxy closes its side.
  const patient = net.createServer({ allowHalfOpen: true }, (s) => s.on('error', () => {}));
  await new Promise<void>((resolve) => patient.listen(0, beIp, () => resolve()));
  try {
    const cur = (await store.get('Endpoints', 'default', 'web'))!;
    (cur.subsets as any[])[0].ports[0].port = (patient.address() as net.AddressInfo).port;
    await store.update(cur);
    const open = () => new Promise<number>((r) => patient.getConnections((_e, n) => r(n)));
    const held = await holdOpen(ip, 8080);
    await until(async () => (await open()) === 1, 'one open backend connection');
    held.socket.resetAndDestroy();
    await until(async () => (await open()) === 0, 'the backend side to close');
  } finally {
    patient.close();
  }
});

test('stop closes listeners and every relayed connection, on both sides', async () => {
  const { store } = await freshStore();
  const b = await be('b');
  const ip = randomAddress(2);
  const nodeHost = randomAddress(3);
  await store.create(svc('web', ip, { type: 'NodePort', ports: [{ name: 'http', port: 8080, nodePort: 30081 }] }));
  await store.create(endpoints('web', [b]));
  const p = await start(store, { nodeHost });
  await listeningOn(p, ip, 8080);
  await listeningOn(p, nodeHost, 30081);
  const held = await holdOpen(ip, 8080);
  await until(() => b.open.size === 1, 'the relayed connection to reach the backend');
  await p.stop();
  await held.closed;
  await until(() => b.open.size === 0, 'the backend side to close');
  assert.equal(p.listening(), []);
  assert.is(await request(ip, 8080), 'error ECONNREFUSED');
  assert.is(await request(nodeHost, 30081), 'error ECONNREFUSED');
  await p.stop(); // twice is harmless
});

test('drain: the proxy acknowledges an Endpoints generation only once no connection goes to an address it dropped', async () => {
  const { store } = await freshStore();
  const [b1, b2] = [await be('b1'), await be('b2')];
  const ip = randomAddress(2);
  await store.create(svc('web', ip));
  await store.create(endpoints('web', [b1, b2]));
  const p = await start(store);
  await listeningOn(p, ip, 8080);
  const ack = async () => (await store.get('Endpoints', 'default', 'web'))!.metadata.annotations?.['convergit.dev/proxied-generation'];
  await until(async () => (await ack()) === '1', 'the first generation acknowledged');
  // Two connections held open: one lands on each backend (round-robin).
  const held = [await holdOpen(ip, 8080), await holdOpen(ip, 8080)];
  await until(() => b1.open.size === 1 && b2.open.size === 1, 'a connection on each backend');
  // b1 leaves the Service: new connections go to b2 at once, but the one in flight to b1 holds the acknowledgement.
  const cur = (await store.get('Endpoints', 'default', 'web'))!;
  await store.update({ ...cur, subsets: endpoints('web', [b2]).subsets });
  assert.is((await store.get('Endpoints', 'default', 'web'))!.metadata.generation, 2);
  for (let i = 0; i < 3; i++) assert.is(await request(ip, 8080), 'b2:hi');
  assert.is(await ack(), '1', 'not acknowledged while a connection to b1 is open');
  // The connection to b2 does not hold it back; the one to b1 closing releases it.
  for (const s of b2.open) s.destroy();
  await until(() => b2.open.size === 0, 'b2 connection closed');
  assert.is(await ack(), '1');
  for (const s of b1.open) s.destroy();
  await until(async () => (await ack()) === '2', 'the second generation acknowledged once drained');
  for (const h of held) h.socket.destroy();
});

/** A kept-alive peer: answers each message at once (`name:msg`), except `hold`, answered on `release()`. */
async function chatty(name: string) {
  const held: net.Socket[] = [];
  const open = new Set<net.Socket>();
  const server = net.createServer((s) => {
    open.add(s);
    s.on('close', () => open.delete(s));
    s.on('error', () => {});
    s.on('data', (d) => (String(d) === 'hold' ? held.push(s) : s.write(`${name}:${d}`)));
  });
  const ip = randomAddress(1);
  await new Promise<void>((resolve) => server.listen(0, ip, () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  backends.push({ name, ip, port, server, open, close: () => new Promise((r) => { for (const s of open) s.destroy(); server.close(() => r()); }) });
  return { ip, port, release: () => { for (const s of held.splice(0)) s.write(`${name}:released`); } };
}

/** A client connection that records what it reads and whether the other side ended it. */
async function kept(host: string, port: number) {
  const socket = net.connect({ host, port });
  const got: string[] = [];
  const state = { ended: false, got, socket };
  socket.on('error', () => {});
  socket.on('data', (d) => got.push(String(d)));
  socket.on('end', () => { state.ended = true; });
  await new Promise((r) => socket.once('connect', r));
  return state;
}

test('kept-alive connections to an endpoint that left close once idle after its answer, not while one is owed', async () => {
  const { store } = await freshStore();
  const [b1, b2] = [await chatty('b1'), await chatty('b2')];
  const ip = randomAddress(2);
  await store.create(svc('web', ip));
  await store.create(endpoints('web', [b1]));
  const p = await startServiceProxy({ store, idleCloseMs: 100, log: () => {} });
  proxies.push(p);
  await listeningOn(p, ip, 8080);
  const ack = async () => (await store.get('Endpoints', 'default', 'web'))!.metadata.annotations?.['convergit.dev/proxied-generation'];
  await until(async () => (await ack()) === '1', 'the first generation acknowledged');
  const idle = await kept(ip, 8080);
  idle.socket.write('a');
  await until(() => idle.got.join('') === 'b1:a', 'the first answer');
  const waiting = await kept(ip, 8080);
  waiting.socket.write('hold');
  await until(() => backends.find((b) => b.name === 'b1')!.open.size === 2, 'both connections on b1');

  const cur = (await store.get('Endpoints', 'default', 'web'))!;
  await store.update({ ...cur, subsets: endpoints('web', [b2]).subsets });
  const fresh = await kept(ip, 8080);
  fresh.socket.write('c');
  await until(() => fresh.got.join('') === 'b2:c', 'a new connection to b2');
  // The idle one is closed by the proxy (a FIN: an HTTP client drops it from its pool); the one owed an answer stays.
  await until(() => idle.ended, 'the idle kept-alive connection to b1 to be closed');
  assert.is(waiting.ended, false, 'a connection waiting for its answer is not cut');
  assert.is(await ack(), '1', 'not drained while an answer is owed');
  b1.release();
  await until(() => waiting.got.join('') === 'b1:released', 'the owed answer');
  await until(() => waiting.ended, 'then that connection closes too');
  await until(async () => (await ack()) === '2', 'the second generation acknowledged');
  assert.is(fresh.ended, false, 'a connection to a ready endpoint is kept');
  fresh.socket.destroy();
});

test('a busy kept-alive HTTP connection to an endpoint that left closes right after an answer, not after the idle window', async () => {
  const { store } = await freshStore();
  // HTTP/1.1 servers that keep connections alive; the answers have a body, so their end is known from their length.
  const serve = async (name: string) => {
    const server = http.createServer({ keepAliveTimeout: 60_000 }, (_req, res) => { res.setHeader('content-type', 'text/plain'); res.end(name); });
    const open = new Set<net.Socket>();
    server.on('connection', (s) => { open.add(s); s.on('close', () => open.delete(s)); });
    const ip = randomAddress(1);
    await new Promise<void>((resolve) => server.listen(0, ip, () => resolve()));
    const port = (server.address() as net.AddressInfo).port;
    backends.push({ name, ip, port, server, open, close: () => new Promise<void>((r) => { for (const c of open) c.destroy(); server.close(() => r()); }) } as unknown as Backend);
    return { ip, port };
  };
  const [b1, b2] = [await serve('b1'), await serve('b2')];
  const ip = randomAddress(2);
  await store.create(svc('web', ip));
  await store.create(endpoints('web', [b1]));
  const lines: string[] = [];
  // No idle window in the test's time: only the answers' ends can close the connection.
  const p = await startServiceProxy({ store, idleCloseMs: 60_000, log: (m) => lines.push(m) });
  proxies.push(p);
  await listeningOn(p, ip, 8080);
  const ack = async () => (await store.get('Endpoints', 'default', 'web'))!.metadata.annotations?.['convergit.dev/proxied-generation'];
  await until(async () => (await ack()) === '1', 'the first generation acknowledged');

  // A client that sends its next request the moment an answer is complete: the connection is never idle.
  const socket = net.connect({ host: ip, port: 8080 });
  socket.on('error', () => {});
  let text = '';
  let sent = 0;
  let ended = false;
  const answers = () => [...text.matchAll(/HTTP\/1\.1 200 OK\r\n[\s\S]*?\r\n\r\n(b\d)/g)].map((m) => m[1]);
  const ask = () => { sent++; socket.write('GET / HTTP/1.1\r\nHost: web\r\n\r\n'); };
  socket.on('data', (d) => { text += d; if (answers().length === sent && !ended) ask(); });
  socket.on('end', () => { ended = true; });
  await new Promise((r) => socket.once('connect', r));
  ask();
  await until(() => answers().length >= 20, 'twenty answers on the kept-alive connection');

  const cur = (await store.get('Endpoints', 'default', 'web'))!;
  await store.update({ ...cur, subsets: endpoints('web', [b2]).subsets });
  await until(() => ended, 'the busy connection to b1 to be closed');
  assert.ok(lines.some((l) => /closed a kept-alive connection to .* which left service/.test(l)), lines.join('\n'));
  // Closed between two exchanges: every byte received is whole answers, all from b1, and at most the one request
  // that crossed the FIN went unanswered (an HTTP client sends it again on a new connection).
  assert.ok(text.endsWith('b1'), 'the last bytes are the end of an answer');
  assert.ok(answers().every((a) => a === 'b1'));
  assert.ok(sent - answers().length <= 1, `${sent} sent, ${answers().length} answered`);
  await until(async () => (await ack()) === '2', 'the second generation acknowledged: drained, the pod may stop');
  socket.destroy();
});

test('a LoadBalancer Service listens on the node at its own port and says so in status; a taken port is an event', async () => {
  const { store } = await freshStore();
  const b1 = await be('lb');
  const nodeHost = randomAddress(3);
  const port = 20000 + Math.floor(Math.random() * 20000);
  await store.create(svc('web', randomAddress(2), { type: 'LoadBalancer', ports: [{ name: 'http', port, protocol: 'TCP', nodePort: 31000 + Math.floor(Math.random() * 1000) }] }));
  await store.create(endpoints('web', [b1]));
  const p = await start(store, { nodeHost });
  await listeningOn(p, nodeHost, port);
  assert.match(await request(nodeHost, port, 'hi'), /^lb:hi$/);
  const status = await until(async () => (await store.get('Service', 'default', 'web'))?.status?.loadBalancer?.ingress, 'status.loadBalancer');
  assert.equal(status, [{ ip: nodeHost, ipMode: 'VIP', ports: [{ port, protocol: 'TCP' }] }]);

  // Another LoadBalancer wanting the same port on the node: refused, with an event saying who holds it.
  await store.create(svc('other', randomAddress(2), { type: 'LoadBalancer', ports: [{ name: 'http', port, protocol: 'TCP', nodePort: 32500 }] }));
  const ev = await until(async () => (await store.list('Event')).find((e) => (e.involvedObject as { name: string }).name === 'other' && /already used by Service default\/web/.test(e.message as string)), 'a conflict event');
  assert.is(ev.type, 'Warning');
  assert.not.ok((await store.get('Service', 'default', 'other'))?.status?.loadBalancer?.ingress, 'no ingress for the Service that did not get the port');
});

test('nodeAddresses: NodePorts and LoadBalancer ports on each Node\'s InternalIP too; a shared host taken by another is reported, then taken when free', async () => {
  const { store } = await freshStore();
  const b1 = await be('own');
  const nodeHost = randomAddress(3), nodeIP = randomAddress(4);
  const nodePort = 31000 + Math.floor(Math.random() * 1000), port = 20000 + Math.floor(Math.random() * 20000);
  const squatter = await be('squatter'); // another serve holding the shared host's node port
  await new Promise<void>((resolve) => squatter.server.close(() => resolve()));
  await new Promise<void>((resolve) => squatter.server.listen(nodePort, nodeHost, () => resolve()));
  await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, status: { addresses: [{ type: 'InternalIP', address: nodeIP }, { type: 'Hostname', address: 'n' }] } });
  await store.create(svc('web', randomAddress(2), { type: 'LoadBalancer', ports: [{ name: 'http', port, protocol: 'TCP', nodePort }] }));
  await store.create(endpoints('web', [b1]));
  const p = await start(store, { nodeHost, nodeAddresses: true, listenRetryMs: 20 });
  await listeningOn(p, nodeIP, nodePort);
  await listeningOn(p, nodeIP, port);
  await listeningOn(p, nodeHost, port);
  assert.is(await request(nodeIP, nodePort, 'hi'), 'own:hi');
  assert.is(await request(nodeHost, nodePort, 'hi'), 'squatter:hi', 'the first comer keeps the shared port');
  const lb = await until(async () => { const i = (await store.get('Service', 'default', 'web'))?.status?.loadBalancer?.ingress; return i?.length === 2 && i; }, 'both addresses in status.loadBalancer');
  assert.equal(lb, [nodeHost, nodeIP].map((ip) => ({ ip, ipMode: 'VIP', ports: [{ port, protocol: 'TCP' }] })));
  const [c] = await until(async () => { const l = await store.getMeta<any[]>(PROXY_PORTS_META); return l?.[0]?.servedOn?.length ? l : undefined; }, 'the conflict, with where it is served instead');
  assert.equal([c.address, c.port, c.kind, c.service, c.servedOn], [nodeHost, nodePort, 'nodePort', 'default/web', [nodeIP]]);
  assert.ok(c.heldBy.startsWith(`pid ${process.pid}`), c.heldBy);
  assert.match(c.message, `served on ${nodeIP}:${nodePort} instead`);
  await squatter.close();
  await listeningOn(p, nodeHost, nodePort);
  assert.is(await request(nodeHost, nodePort, 'hi'), 'own:hi');
  await until(async () => (await store.getMeta<any[]>(PROXY_PORTS_META))?.length === 0, 'nothing left to report');
});

test.run();
