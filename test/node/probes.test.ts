import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { createServer as createTcpServer, type AddressInfo } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeOnce, type Probe, type ProbeContext } from '../../src/node/probes.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';

const IP = '127.1.0.5';
let dir = '';
let servers: { close(cb?: () => void): unknown }[] = [];
let lastHeaders: IncomingHttpHeaders = {};

test.before.each(async () => { dir = await mkdtemp(join(tmpdir(), 'convergit-probes-')); });
test.after.each(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise<void>((r) => s.close(() => r()))));
  await rm(dir, { recursive: true, force: true });
});

/** An HTTP server on the pod IP answering each path with its status; '/hang' never answers. */
async function http(): Promise<number> {
  const server: Server = createServer((req, res) => {
    lastHeaders = req.headers;
    if (req.url === '/hang') return;
    const status = Number(req.url?.slice(1)) || 200;
    res.writeHead(status, status === 302 ? { location: '/' } : {}).end('body');
  });
  await new Promise<void>((r) => server.listen(0, IP, r));
  servers.push({ close: (cb) => { server.closeAllConnections(); server.close(cb); } });
  return (server.address() as AddressInfo).port;
}

/** A port on the pod IP that nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  await new Promise<void>((r) => s.listen(0, IP, r));
  const port = (s.address() as AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

const ctx = (extra: Partial<ProbeContext> = {}): ProbeContext => ({
  podIP: IP,
  ports: [{ name: 'http', containerPort: 1 }],
  runtime: new ProcessRuntime(),
  launch: { id: 'default/web-x/web', argv: ['sleep', '1'], env: { MARK: 'here' }, cwd: dir, logFile: join(dir, 'log') },
  timeoutMs: 2000,
  ...extra,
});

test('httpGet succeeds for 2xx and 3xx, and sends the probe headers', async () => {
  const port = await http();
  const probe: Probe = { httpGet: { path: '/200', port, httpHeaders: [{ name: 'X-Check', value: 'yes' }] } };
  assert.equal(await probeOnce(probe, ctx()), { ok: true });
  assert.is(lastHeaders['x-check'], 'yes');
  assert.match(lastHeaders['user-agent'] ?? '', /^kube-probe\//);
  assert.equal(await probeOnce({ httpGet: { path: '/302', port } }, ctx()), { ok: true });
  assert.equal(await probeOnce({ httpGet: { path: '/399', port } }, ctx()), { ok: true });
});

test('httpGet fails on 4xx and 5xx with the status code', async () => {
  const port = await http();
  assert.equal(await probeOnce({ httpGet: { path: '/500', port } }, ctx()), { ok: false, message: 'HTTP probe failed with statuscode: 500' });
  assert.equal(await probeOnce({ httpGet: { path: '/404', port } }, ctx()), { ok: false, message: 'HTTP probe failed with statuscode: 404' });
});

test('httpGet on a named container port', async () => {
  const port = await http();
  assert.equal(await probeOnce({ httpGet: { path: '/', port: 'web' } }, ctx({ ports: [{ name: 'web', containerPort: port }] })), { ok: true });
  const missing = await probeOnce({ httpGet: { path: '/', port: 'metrics' } }, ctx());
  assert.equal(missing, { ok: false, message: "couldn't find port: metrics in default/web-x/web" });
});

test('httpGet to a closed port reports the refused dial', async () => {
  const port = await closedPort();
  const r = await probeOnce({ httpGet: { path: '/healthz', port } }, ctx());
  assert.equal(r, { ok: false, message: `Get "http://${IP}:${port}/healthz": dial tcp ${IP}:${port}: connect: connection refused` });
});

test('httpGet that gets no answer within the timeout fails', async () => {
  const port = await http();
  const r = await probeOnce({ httpGet: { path: '/hang', port } }, ctx({ timeoutMs: 100 }));
  assert.equal(r, { ok: false, message: `Get "http://${IP}:${port}/hang": context deadline exceeded (Client.Timeout exceeded while awaiting headers)` });
});

test('HTTPS and gRPC probes fail with a clear message', async () => {
  const r = await probeOnce({ httpGet: { path: '/', port: 443, scheme: 'HTTPS' } }, ctx());
  assert.equal(r, { ok: false, message: "scheme HTTPS is not supported by convergit's prober (only HTTP)" });
  assert.equal((await probeOnce({ grpc: { port: 9000 } }, ctx())).ok, false);
  assert.equal(await probeOnce({}, ctx()), { ok: false, message: 'missing probe handler' });
});

test('tcpSocket succeeds when a connection opens, fails when refused', async () => {
  const port = await http();
  assert.equal(await probeOnce({ tcpSocket: { port } }, ctx()), { ok: true });
  assert.equal(await probeOnce({ tcpSocket: { port: 'http' } }, ctx({ ports: [{ name: 'http', containerPort: port }] })), { ok: true });
  const closed = await closedPort();
  assert.equal(await probeOnce({ tcpSocket: { port: closed } }, ctx()), { ok: false, message: `dial tcp ${IP}:${closed}: connect: connection refused` });
  assert.equal(await probeOnce({ tcpSocket: { port: 0 } }, ctx()), { ok: false, message: 'invalid port number: 0' });
});

test('exec succeeds on exit 0 in the container context, fails with its output, or on timeout', async () => {
  assert.equal(await probeOnce({ exec: { command: ['sh', '-c', 'test "$MARK" = here && test -d .'] } }, ctx()), { ok: true });
  assert.equal(await probeOnce({ exec: { command: ['sh', '-c', 'echo not ready; exit 1'] } }, ctx()), { ok: false, message: 'not ready' });
  assert.equal(await probeOnce({ exec: { command: ['false'] } }, ctx()), { ok: false, message: 'command "false" exited with 1' });
  assert.equal(await probeOnce({ exec: { command: ['sleep', '30'] } }, ctx({ timeoutMs: 100 })), { ok: false, message: 'command "sleep 30" timed out' });
});

test.run();
