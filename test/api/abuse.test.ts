// The API under abuse, each answered as kube-apiserver would and none stalling the others: huge bodies (413),
// slow clients (408), too many watches or requests at once (429), malformed paths and parameters (400), path
// traversal in log requests, a watch client that never reads (cut off). One server, small limits, real sockets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { readPodLog } from '../../src/node/logs.ts';
import type { Store } from '../../src/store/store.ts';

let dir: string, store: Store, api: ApiServer;
const get = async (p: string) => {
  const res = await fetch(api.url + p);
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: (() => { try { return JSON.parse(text); } catch { return undefined; } })() as any };
};

/** A raw connection: what it is sent, everything it receives, and when the server closed it. */
function raw(text: string): { socket: Socket; received: () => string; closed: Promise<string> } {
  const socket = connect(api.port, '127.0.0.1');
  let data = '';
  socket.setEncoding('utf8').on('data', (d) => (data += d)).on('error', () => {});
  socket.write(text);
  return { socket, received: () => data, closed: new Promise((resolve) => socket.on('close', () => resolve(data))) };
}

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-abuse-'));
  store = await openStore(dir);
  await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'big', namespace: 'default' }, data: { a: '' } });
  await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', uid: 'u1' }, spec: { containers: [{ name: 'main', image: 'x' }] } });
  api = await startApiServer({
    store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test',
    podLogs: (pod, o) => readPodLog(dir, pod, o),
    limits: { maxInflight: 4, maxWatches: 3, watchBufferBytes: 64 * 1024, headersTimeoutMs: 300, requestTimeoutMs: 600, connectionsCheckingIntervalMs: 100 },
  });
});

test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a body over the limit is 413 RequestEntityTooLarge before it is read, and the connection is closed', async () => {
  const c = raw(`POST /api/v1/namespaces/default/configmaps HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${2 ** 30}\r\n\r\n{`);
  const answer = await c.closed;
  assert.match(answer, /^HTTP\/1\.1 413 /);
  assert.match(answer, /"reason":"RequestEntityTooLarge"/);
  assert.match(answer, /limit is 3145728/);
  assert.is((await get('/healthz')).status, 200);
});

test('slowloris: headers never finished, or a body never finished, are 408 and closed; other clients are answered meanwhile', async () => {
  const headers = raw('GET /api/v1/pods HTTP/1.1\r\nhost: x\r\n');
  const body = raw('POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"kind":');
  const drip = setInterval(() => headers.socket.write('x-drip: 1\r\n'), 50); // a header now and then never ends them
  assert.is((await get('/api/v1/namespaces/default/configmaps')).status, 200, 'served while the slow ones hang');
  const [h, b] = await Promise.all([headers.closed, body.closed]);
  clearInterval(drip);
  assert.match(h, /^HTTP\/1\.1 408 /);
  assert.match(b, /^HTTP\/1\.1 408 /);
});

test('watches beyond the cap are 429 TooManyRequests with Retry-After; a closed one frees its place', async () => {
  const watches = [0, 1, 2].map(() => raw('GET /api/v1/configmaps?watch=true HTTP/1.1\r\nhost: x\r\n\r\n'));
  for (const w of watches) await until(() => w.received().includes('200 OK'));
  const over = await get('/api/v1/configmaps?watch=true');
  assert.is(over.status, 429);
  assert.is(over.headers.get('retry-after'), '1');
  assert.equal([over.body.reason, over.body.code, over.body.details.retryAfterSeconds], ['TooManyRequests', 429, 1]);
  assert.is((await get('/api/v1/configmaps')).status, 200, 'plain requests are counted apart');
  watches[0].socket.destroy();
  await until(async () => (await fetch(`${api.url}/api/v1/configmaps?watch=true&timeoutSeconds=1`).then((r) => r.text().then(() => r.status))) === 200);
  for (const w of watches) w.socket.destroy();
});

test('requests beyond --max-requests-inflight are 429 while the others are held', async () => {
  const rv = Number(await store.resourceVersion()) + 1000; // each of these waits (about 3 s) for a version to come
  const held = [0, 1, 2, 3].map(() => get(`/api/v1/configmaps?resourceVersion=${rv}`));
  await until(async () => (await get('/version')).status === 429);
  assert.equal((await Promise.all(held)).map((r) => r.status), [504, 504, 504, 504]);
  assert.is((await get('/version')).status, 200);
});

test('malformed paths, queries, selectors, resourceVersions, limits and continue tokens are 400 Status; long URLs 431', async () => {
  const bad = [
    '/api/v1/namespaces/%zz/pods', '/api/v1/pods?resourceVersion=abc', '/api/v1/pods?resourceVersion=99999999999999999999999',
    '/api/v1/pods?labelSelector=' + encodeURIComponent('a in (b'), '/api/v1/pods?labelSelector=' + encodeURIComponent('!!!'),
    '/api/v1/pods?fieldSelector=' + encodeURIComponent('spec.nope=1'), '/api/v1/pods?limit=-1', '/api/v1/pods?limit=1e3',
    '/api/v1/pods?limit=1&continue=garbage', '/api/v1/pods?watch=true&timeoutSeconds=soon', '/api/v1/pods?watch=true&resourceVersion=x',
  ];
  for (const p of bad) {
    const r = await get(p);
    assert.is(r.status, 400, `${p}: ${r.text}`);
    assert.equal([r.body.kind, r.body.status, r.body.code], ['Status', 'Failure', 400], p);
  }
  const absurd = await get('/api/v1/pods?limit=99999999999999999999999');
  assert.is(absurd.status, 200);
  assert.is(absurd.body.items.length, 1);
  const long = await get('/api/v1/pods?labelSelector=' + 'a'.repeat(64 * 1024));
  assert.is(long.status, 431);
  assert.is((await get('/healthz')).status, 200);
});

test('path traversal in log requests never reaches a file: unknown pods 404, unknown containers 400', async () => {
  for (const p of ['/api/v1/namespaces/default/pods/..%2F..%2F..%2Fetc%2Fpasswd/log', '/api/v1/namespaces/..%2F..%2Fetc/pods/web/log', '/api/v1/namespaces/default/pods/%2e%2e/log']) {
    const r = await get(p);
    assert.is(r.status, 404, `${p}: ${r.text}`);
  }
  for (const c of ['../../../../etc/passwd', '/etc/passwd', 'main/../../x']) {
    const r = await get(`/api/v1/namespaces/default/pods/web/log?container=${encodeURIComponent(c)}`);
    assert.is(r.status, 400, `${c}: ${r.text}`);
    assert.match(r.body.message, /is not valid for pod/);
  }
});

test('a watch client that never reads is cut off once its buffer is full; the server goes on', async () => {
  const w = raw('GET /api/v1/namespaces/default/configmaps?watch=true HTTP/1.1\r\nhost: x\r\n\r\n');
  await until(() => w.received().includes('200 OK'));
  w.socket.pause(); // reads nothing more: the kernel's buffers fill, then the server's
  let closed = false;
  void w.closed.then(() => (closed = true));
  const big = 'x'.repeat(100 * 1024);
  for (let i = 0; i < 400 && !closed; i++) {
    const cm = await store.get('ConfigMap', 'default', 'big');
    await store.update({ ...cm!, data: { a: `${i}${big}` } });
    if (i % 20 === 19) {
      w.socket.resume(); // a moment's read lets 'close' be seen once the server has cut it off
      await new Promise((r) => setImmediate(r));
      w.socket.pause();
    }
  }
  w.socket.resume();
  await until(() => closed, 15_000); // without the cap the server would buffer all 40 MB and never close it
  assert.ok(w.received().length < 400 * big.length, 'cut off before everything was sent');
  assert.is((await get('/api/v1/namespaces/default/configmaps/big')).status, 200);
});

async function until(check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test.run();
