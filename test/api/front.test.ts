// The API's front (src/api/front-worker.ts): GETs of stored objects and health checks answered in a thread of
// its own while the main thread is busy; everything else relayed to the main thread and answered when it can.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect, createServer } from 'node:net';
import { MessageChannel, receiveMessageOnPort, Worker } from 'node:worker_threads';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import type { Store } from '../../src/store/store.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { ReplicaFeed } from '../../src/api/replica-feed.ts';
import { frontRoutes, startFront } from '../../src/api/front.ts';
import { servedKinds } from '../../src/api/discovery.ts';
import { servedAsStored } from '../../src/api/views.ts';
import type { FeedMessage } from '../../src/api/front-protocol.ts';
import { until } from '../support/wait.ts';

let dir: string, store: Store, api: ApiServer;
/** How old the main thread's heartbeat may be before the front stops answering health checks itself. */
const STALL_MS = 400;

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-front-'));
  store = await openStore(dir);
  await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } });
  await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } });
  await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } });
  await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-2', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } });
  await store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, data: { k: 'dg==' } });
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test', limits: { mainStallMs: STALL_MS } });
});

test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Answer { path: string; status: number; at: number; text: string }
/**
 * A client in a thread of its own (this test's thread is the API's main thread, kept busy meanwhile): once told, it
 * GETs each path `after` ms later and reports when each answer's last byte came (Date.now(), one clock for all threads).
 */
async function clientThread(url: string, gets: { path: string; after: number }[]) {
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    parentPort.once('message', async () => {
      const out = await Promise.all(workerData.gets.map(async ({ path, after }) => {
        await new Promise((r) => setTimeout(r, after));
        const res = await fetch(workerData.url + path);
        const text = await res.text();
        return { path, status: res.status, at: Date.now(), text };
      }));
      parentPort.postMessage(out);
    });
    // One request first, so that fetch itself is loaded before the main thread gets busy.
    fetch(workerData.url + '/version').then((r) => r.text()).then(() => parentPort.postMessage('ready'));`, { eval: true, workerData: { url, gets } });
  await new Promise((resolve) => worker.once('message', resolve));
  const answers = new Promise<Answer[]>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
  return { go: () => worker.postMessage('go'), answers: answers.finally(() => worker.terminate()) };
}

const busyFor = (ms: number) => {
  const end = Date.now() + ms;
  while (Date.now() < end); // the main thread does nothing else meanwhile: no turn ends, no timer runs
  return Date.now();
};

test('while the main thread is busy, GETs of objects read before and health checks are answered; the rest once it is free', async () => {
  const stored = await store.get('Pod', 'default', 'web-1');
  // Read once (the main thread answers, and the front keeps them from then on); the Node in its table form (kubectl
  // get's), which the front never answers and so does not keep.
  for (const p of ['/api/v1/namespaces/default/pods/web-1', '/api/v1/nodes/n1']) await (await fetch(api.url + p)).arrayBuffer();
  await (await fetch(`${api.url}/api/v1/nodes/n2`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } })).arrayBuffer();
  const client = await clientThread(api.url, [
    { path: '/api/v1/namespaces/default/pods/web-1', after: 0 },
    { path: '/api/v1/nodes/n1', after: 0 },
    { path: '/healthz', after: 0 },
    // Not read before: a pod, and a Node read only as a table.
    { path: '/api/v1/namespaces/default/pods/web-2', after: 0 },
    { path: '/api/v1/nodes/n2', after: 0 },
    // Answered by the main thread: a Secret (what a client sees depends on its token), a name the replica has not,
    // a list, and a health check once the main thread's heartbeat is older than STALL_MS.
    { path: '/api/v1/namespaces/default/secrets/s', after: 0 },
    { path: '/api/v1/namespaces/default/pods/missing', after: 0 },
    { path: '/api/v1/namespaces/default/pods', after: 0 },
    { path: '/livez', after: STALL_MS + 400 },
  ]);
  client.go();
  const freeAt = busyFor(STALL_MS + 1600);
  const answers = await client.answers;
  const by = (p: string, after = 0) => answers.find((a) => a.path === p && (after === 0 || a.at >= freeAt))!;
  const pod = by('/api/v1/namespaces/default/pods/web-1');
  assert.ok(pod.at < freeAt, `the pod's GET waited for the main thread (${pod.at - freeAt} ms after it was free)`);
  assert.is(pod.status, 200);
  assert.equal(JSON.parse(pod.text), stored);
  assert.ok(by('/api/v1/nodes/n1').at < freeAt);
  assert.is(JSON.parse(by('/api/v1/nodes/n1').text).metadata.name, 'n1');
  assert.ok(by('/healthz').at < freeAt);
  assert.is(by('/healthz').text, 'ok');
  for (const p of ['/api/v1/namespaces/default/secrets/s', '/api/v1/namespaces/default/pods/missing', '/api/v1/namespaces/default/pods', '/livez', '/api/v1/nodes/n2', '/api/v1/namespaces/default/pods/web-2']) {
    assert.ok(by(p).at >= freeAt, `${p} was answered while the main thread was busy`);
  }
  assert.is(by('/api/v1/namespaces/default/pods/missing').status, 404);
  assert.is(JSON.parse(by('/api/v1/namespaces/default/pods/missing').text).reason, 'NotFound');
  assert.is(by('/livez').text, 'ok');
  assert.is(by('/api/v1/namespaces/default/secrets/s').status, 200);
  assert.is(JSON.parse(by('/api/v1/namespaces/default/pods/web-2').text).metadata.name, 'web-2');
  // Read once now, so kept: the next busy spell does not hold it up.
  const again = await clientThread(api.url, [{ path: '/api/v1/namespaces/default/pods/web-2', after: 0 }]);
  again.go();
  const freeAgainAt = busyFor(800);
  assert.ok((await again.answers)[0].at < freeAgainAt, 'a pod read once was not kept at the front');
});

test('the front serves each change as soon as its writer goes on: a new status, a deletion, a creation', async () => {
  const get = async (p: string) => { const r = await fetch(api.url + p); return { status: r.status, body: await r.json() as any }; };
  const updated = await store.updateStatus('Pod', 'default', 'web-1', { phase: 'Running' });
  const seen = await get('/api/v1/namespaces/default/pods/web-1');
  assert.is(seen.body.metadata.resourceVersion, updated.metadata.resourceVersion);
  assert.is(seen.body.status.phase, 'Running');
  await store.delete('Node', undefined, 'n1');
  assert.is((await get('/api/v1/nodes/n1')).status, 404);
  const again = await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1', labels: { again: 'yes' } } });
  const n = await get('/api/v1/nodes/n1');
  assert.is(n.body.metadata.uid, again.metadata.uid);
  assert.is(n.body.metadata.labels.again, 'yes');
});

test("a change the main thread has shown is never older at the front: its answers send the turn's changes first", async () => {
  // A client thread watches the pod through the main thread and, once an event shows `now`, GETs the pod from the
  // front (it keeps it: read in the test before). Between the change, its watch event and the busy spell after it no
  // microtask runs: only the event's own send can have put the change in the replica before the client's GET.
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    (async () => {
      const res = await fetch(workerData.url + '/api/v1/namespaces/default/pods?watch=1&fieldSelector=metadata.name%3Dweb-1&resourceVersion=' + workerData.rv);
      const reader = res.body.getReader();
      let text = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        text += new TextDecoder().decode(value);
        if (text.includes('"warm"')) { parentPort.postMessage({ warm: true }); text = ''; }
        if (text.includes('"now"')) {
          const got = await (await fetch(workerData.url + '/api/v1/namespaces/default/pods/web-1')).json();
          parentPort.postMessage({ rv: got.metadata.resourceVersion, message: got.status.message, at: Date.now() });
          await reader.cancel();
          break;
        }
      }
    })().catch((e) => parentPort.postMessage({ error: e.message }));`, { eval: true, workerData: { url: api.url, rv: await store.resourceVersion() } });
  try {
    const next = () => new Promise<any>((resolve, reject) => { worker.once('message', resolve); worker.once('error', reject); });
    const warm = next();
    await store.updateStatus('Pod', 'default', 'web-1', { phase: 'Running', message: 'warm' });
    assert.equal(await warm, { warm: true }); // the watch is there: the next change's event is written in its own turn
    const got = next();
    // From a macrotask (a timer's callback): the change commits at once, its watch event written within it; node's
    // response uncorks its socket in a next tick, so the event leaves then; the busy spell is the next tick after
    // that, and microtasks (where the change's own send would go) come only after the ticks.
    const [changed, freeAt] = await new Promise<[Promise<KubeObject>, number]>((resolve) => setImmediate(() => {
      const change = store.updateStatus('Pod', 'default', 'web-1', { phase: 'Running', message: 'now' });
      process.nextTick(() => resolve([change, busyFor(1500)]));
    }));
    const updated = await changed;
    const answer = await got;
    assert.is(answer.error, undefined);
    assert.ok(answer.at < freeAt, 'the GET was not answered while the main thread was busy');
    assert.is(answer.message, 'now');
    assert.is(answer.rv, updated.metadata.resourceVersion);
  } finally {
    await worker.terminate();
  }
});

test('the front keeps what was read, with every change from before the read; at most its most, the one read longest ago dropped first', async () => {
  const channel = new MessageChannel();
  const feed = new ReplicaFeed(store, ['ConfigMap'], channel.port1, 1000, 2);
  await feed.start();
  /** What the feed has sent since last asked, by name: the value of `data.v`, or null for dropped. */
  const taken = () => {
    feed.flush();
    const out: Record<string, string | null> = {};
    for (let m = receiveMessageOnPort(channel.port2); m; m = receiveMessageOnPort(channel.port2)) {
      const c = (m.message as FeedMessage).changes ?? [];
      for (let i = 0; i < c.length; i += 2) out[c[i]!.split('\0')[2]] = c[i + 1] && JSON.parse(c[i + 1]!).data.v;
    }
    return out;
  };
  const read = async (name: string) => {
    feed.want('ConfigMap', 'default', name);
    return (await store.get('ConfigMap', 'default', name, { shared: true }))!;
  };
  const cm = (name: string, v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v } });
  try {
    for (const n of ['a', 'b', 'c']) await store.create(cm(n, `${n}1`));
    taken();
    for (const n of ['a', 'b', 'c']) feed.offer(await read(n));
    assert.equal(taken(), { a: null, b: 'b1', c: 'c1' }, 'two kept: the first read dropped');
    await store.update(cm('a', 'a2'));
    await store.update(cm('b', 'b2'));
    assert.equal(taken(), { b: 'b2' }, 'a change of a kept object is sent; of one not kept, not');
    // Changed between the read and the offer: the change is sent, the older read not.
    const a = await read('a'); // b read longest ago: dropped
    await store.update(cm('a', 'a3'));
    feed.offer(a);
    assert.equal(taken(), { b: null, a: 'a3' });
    // Deleted between the read and the offer: not kept.
    const c = await read('c');
    await store.delete('ConfigMap', 'default', 'c');
    feed.offer(c);
    assert.equal(taken(), { c: null });
    await store.create(cm('c', 'c4'));
    assert.equal(taken(), {}, 'made again, it is kept only once read again');
    // Not found: not kept, even once it is made.
    feed.want('ConfigMap', 'default', 'x');
    feed.unwant('ConfigMap', 'default', 'x');
    await store.create(cm('x', 'x1'));
    assert.equal(taken(), {});
  } finally {
    feed.stop();
    channel.port1.close();
    for (const n of ['a', 'b', 'c', 'x']) await store.delete('ConfigMap', 'default', n).catch(() => {});
  }
});

test('at its most, the front drops the object read longest ago: one it answers again and again stays', async () => {
  const own = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test', limits: { frontObjects: 2 } });
  const pod = (n: string) => `/api/v1/namespaces/default/pods/${n}`;
  try {
    await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-3', namespace: 'default' }, spec: { containers: [{ name: 'c', image: 'nginx:1.27' }] } });
    for (const n of ['web-1', 'web-2']) await (await fetch(own.url + pod(n))).arrayBuffer(); // kept: web-1 first
    await (await fetch(own.url + pod('web-1'))).arrayBuffer(); // answered by the front: read last now
    await (await fetch(own.url + pod('web-3'))).arrayBuffer(); // a third kept: web-2 is dropped, not web-1
    const client = await clientThread(own.url, ['web-1', 'web-2', 'web-3'].map((n) => ({ path: pod(n), after: 0 })));
    client.go();
    const freeAt = busyFor(800);
    const at = Object.fromEntries((await client.answers).map((a) => [a.path, a.at < freeAt]));
    assert.equal(at, { [pod('web-1')]: true, [pod('web-2')]: false, [pod('web-3')]: true }, 'answered while the main thread was busy');
  } finally {
    await own.close();
    await store.delete('Pod', 'default', 'web-3');
  }
});

test('HEAD is the main thread\'s answer, as before; close() ends the front and frees the port', async () => {
  const body = await (await fetch(`${api.url}/api/v1/namespaces/default/pods/web-1`)).arrayBuffer();
  const head = await fetch(`${api.url}/api/v1/namespaces/default/pods/web-1`, { method: 'HEAD' });
  assert.is(head.status, 200);
  assert.is(head.headers.get('content-length'), String(body.byteLength));
  assert.is((await head.arrayBuffer()).byteLength, 0);
  const other = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
  assert.is((await fetch(`${other.url}/healthz`)).status, 200);
  await other.close();
  const again = createServer();
  await new Promise<void>((resolve, reject) => { again.once('error', reject); again.listen(other.port, '127.0.0.1', () => resolve()); });
  await new Promise((resolve) => again.close(resolve));
  assert.not.ok(await fetch(`${other.url}/healthz`).then(() => true, () => false), 'answered after close');
});

/** apiserver_request_total of single pod GETs answered 200, as `url`'s /metrics says. */
const podGetsOf = async (url: string) => {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('apiserver_request_total{') && l.includes('verb="GET"') && l.includes('resource="pods"') && l.includes('scope="resource"') && l.includes('code="200"'));
  return line ? Number(line.split(' ').at(-1)) : 0;
};

test("the front's answers are counted in /metrics as the main thread's are", async () => {
  const before = await podGetsOf(api.url);
  for (let i = 0; i < 3; i++) assert.is((await fetch(`${api.url}/api/v1/namespaces/default/pods/web-1`).then((r) => r.arrayBuffer().then(() => r.status))), 200);
  assert.is(await podGetsOf(api.url), before + 3);
});

/** An API server of its own, with the worker threads it starts (the front's first), and what it logs on stderr. */
async function ownApi(onWorker: (w: Worker, n: number) => void = () => {}) {
  const threads: Worker[] = [];
  const seen = (w: Worker) => { threads.push(w); onWorker(w, threads.length); };
  process.on('worker', seen);
  const errors: string[] = [], logged = console.error;
  console.error = (...a: unknown[]) => { errors.push(a.join(' ')); };
  const server = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
  return { server, threads, errors, done: () => { process.off('worker', seen); console.error = logged; } };
}

const portIsFree = (port: number) => new Promise<boolean>((resolve) => {
  const s = createServer();
  s.once('error', () => resolve(false));
  s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
});

test('a front thread that ends is started again on its port: the API answers again, what it kept only once read again', async () => {
  const { server: other, threads, errors, done } = await ownApi();
  try {
    const pod = `${other.url}/api/v1/namespaces/default/pods/web-1`, unchanged = `${other.url}/api/v1/namespaces/default/pods/web-2`;
    for (const p of [pod, unchanged]) await (await fetch(p)).arrayBuffer(); // kept from now on
    assert.is(threads.length, 1, 'the API started one thread, its front');
    await threads[0].terminate();
    // Changed while no front runs: the new one, which keeps nothing until read, serves the change.
    const changed = await store.updateStatus('Pod', 'default', 'web-1', { phase: 'Running', message: 'after the restart' });
    await until(async () => (await fetch(`${other.url}/healthz`).catch(() => undefined))?.status === 200, 'the API to answer again', 10_000);
    const counted = await podGetsOf(other.url);
    assert.ok(errors.some((e) => e.includes(`exited (1): starting it again on port ${other.port} in 100 ms`)), errors.join('\n'));
    assert.ok(errors.some((e) => e.includes(`answers again on port ${other.port}`)), errors.join('\n'));
    const got = await (await fetch(pod)).json() as KubeObject;
    assert.is(got.metadata.resourceVersion, changed.metadata.resourceVersion);
    await (await fetch(unchanged)).arrayBuffer();
    const client = await clientThread(other.url, ['web-1', 'web-2'].map((n) => ({ path: `/api/v1/namespaces/default/pods/${n}`, after: 0 })));
    client.go();
    const freeAt = busyFor(800);
    const [again, same] = await client.answers;
    assert.ok(again.at < freeAt && same.at < freeAt, 'the restarted front does not keep what was read again');
    assert.is(JSON.parse(again.text).status.message, 'after the restart');
    assert.is(JSON.parse(same.text).metadata.name, 'web-2');
    assert.is(await podGetsOf(other.url), counted + 4, "the new front's answers are not counted");
    // Ended again soon after: the wait doubles.
    await threads[1].terminate();
    await until(async () => errors.some((e) => e.includes(`starting it again on port ${other.port} in 200 ms`)) && (await fetch(`${other.url}/healthz`).catch(() => undefined))?.status === 200, 'the API to answer again after a longer wait', 10_000);
  } finally {
    await other.close();
    done();
  }
  assert.ok(await portIsFree(other.port), 'the port is held after close');
});

test('closed while its front thread starts again, the API frees its port and the new thread ends', async () => {
  let closed: Promise<void> | undefined;
  // As the restart makes its thread (before it listens), the API is closed.
  const { server: other, threads, errors, done } = await ownApi((_, n) => { if (n === 2) closed = other.close(); });
  try {
    await threads[0].terminate();
    await until(() => closed !== undefined, 'the front to be started again', 10_000);
    await closed;
    assert.ok(threads[1].threadId < 0, 'the new front thread still runs');
    assert.ok(await portIsFree(other.port), 'the port is held after close');
    assert.not.ok(errors.some((e) => e.includes('answers again')), errors.join('\n'));
  } finally {
    done();
  }
});

test('a health check the front relays to a stalled main thread is answered there even when its requests are at their most', async () => {
  const own = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test', limits: { mainStallMs: STALL_MS, maxInflight: 2 } });
  try {
    const client = await clientThread(own.url, [{ path: '/healthz', after: STALL_MS + 200 }, { path: '/version', after: STALL_MS + 200 }]);
    // Two requests held (each waits ~3 s for a version to come): the main thread takes no other request now.
    const rv = Number(await store.resourceVersion()) + 1000;
    const held = [0, 1].map(() => fetch(`${own.url}/api/v1/configmaps?resourceVersion=${rv}`).then((r) => r.status, () => 0));
    await until(async () => (await fetch(`${own.url}/version`)).status === 429, 'the main thread to be full');
    client.go();
    const freeAt = busyFor(STALL_MS + 600);
    const [health, version] = await client.answers;
    assert.ok(health.at >= freeAt, 'the health check was answered by the front');
    assert.equal([health.status, health.text], [200, 'ok']);
    assert.is(version.status, 429);
    assert.equal(await Promise.all(held), [504, 504]);
  } finally {
    await own.close();
  }
});

test("with the main thread's server gone, the front answers 503, an upgrade (exec, port-forward) too", async () => {
  const routes = frontRoutes(servedKinds().filter((k) => !k.custom), servedAsStored);
  const front = await startFront(store, {
    host: '127.0.0.1', port: 0, open: true, internal: `\0convergit-test-nothing-${process.pid}`, secret: 's', routes, mainStallMs: 10_000, maxKept: 10,
    serverOptions: { headersTimeout: 10_000, requestTimeout: 10_000, connectionsCheckingInterval: 1000 },
  }, () => {});
  try {
    const relayed = await fetch(`http://127.0.0.1:${front.port}/api/v1/namespaces/default/pods`);
    assert.is(relayed.status, 503);
    assert.is((await relayed.json() as any).reason, 'ServiceUnavailable');
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(front.port, '127.0.0.1', () => socket.write('GET /api/v1/namespaces/default/pods/web-1/exec?command=sh HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n'));
      let text = '';
      socket.on('data', (d) => { text += d; });
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
      socket.setTimeout(5000, () => reject(new Error(`no answer in 5 s: ${JSON.stringify(text)}`)));
    });
    assert.match(answer, /^HTTP\/1\.1 503 Service Unavailable\r\n/);
    assert.is(JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4)).reason, 'ServiceUnavailable');
  } finally {
    await front.close();
  }
});

test.run();
