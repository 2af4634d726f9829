// Committed APIServices' Available condition as kube-aggregator's availability controller keeps it: a change of
// the Service or its Endpoints that changes the condition is a MODIFIED of the APIService on a watch (at that
// change's version, replayed to a watch that resumes before it); one that changes nothing sends nothing. The
// Service and Endpoints informers run only while a committed APIService names a Service, and stop() is final.
// Real store, real API server, real HTTP watch streams.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { ApiServiceAvailability } from '../../src/api/api-services.ts';
import type { Store, WatchOptions } from '../../src/store/store.ts';
import { until } from '../support/wait.ts';

let dir: string, store: Store, api: ApiServer;
/** The store as the API server sees it, counting its open watches: tells when a client's watch is registered. */
let apiStore: ReturnType<typeof counting>;

/** The real store, counting the watches open on it by kind: what tells which informers run. */
function counting(inner: Store): Store & { open: () => string[] } {
  const live = new Map<object, string>();
  const proxy = new Proxy(inner, {
    get(target, prop, receiver) {
      if (prop === 'open') return () => [...live.values()].sort();
      if (prop === 'watch') {
        return async (opts: WatchOptions, handler: Parameters<Store['watch']>[1]) => {
          const stop = await target.watch(opts, handler);
          const key = {};
          live.set(key, opts.kind ?? '*');
          return () => { live.delete(key); stop(); };
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return proxy as Store & { open: () => string[] };
}

/** A watch stream over HTTP: events as they arrive. */
function stream(p: string) {
  const ctrl = new AbortController();
  const events: any[] = [];
  const done = (async () => {
    const res = await fetch(api.url + p, { signal: ctrl.signal });
    if (!res.ok) { events.push(await res.json()); return; }
    const reader = res.body!.getReader();
    let buf = '';
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += new TextDecoder().decode(value);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) { events.push(JSON.parse(buf.slice(0, nl))); buf = buf.slice(nl + 1); }
    }
  })().catch((e) => { if (e.name !== 'AbortError') throw e; });
  return { events, stop: () => ctrl.abort(), done };
}

const NAME = 'v1beta1.custom.metrics.k8s.io';
const apiService = (name: string, service?: object) => ({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name }, spec: { group: name.split('.').slice(1).join('.'), version: name.split('.')[0], groupPriorityMinimum: 100, versionPriority: 100, ...(service ? { service } : {}) } });
const endpoints = (ready: boolean, ip = '10.0.0.1') => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'adapter', namespace: 'monitoring' }, subsets: [{ [ready ? 'addresses' : 'notReadyAddresses']: [{ ip }], ports: [{ name: 'https', port: 6443 }] }] });
const reasons = (events: any[]) => events.filter((e) => e.object.metadata.name === NAME).map((e) => [e.type, e.object.status.conditions[0].reason, e.object.metadata.resourceVersion]);
const rv = async () => (await store.resourceVersion());

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-apisvc-'));
  store = await openStore(dir);
  apiStore = counting(store);
  api = await startApiServer({ store: apiStore, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
});

test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a Service or Endpoints change that changes the condition is a MODIFIED at its version; one that changes nothing sends nothing', async () => {
  await store.create(apiService(NAME, { namespace: 'monitoring', name: 'adapter', port: 443 }));
  const w = stream(`/apis/apiregistration.k8s.io/v1/apiservices?watch=1&fieldSelector=metadata.name%3D${NAME}`);
  // Stopped however the test ends: a stream left open dies with the server, and its rejection took the test process down.
  try {
    // And kubectl's watch, printing each event's reason.
    await until(() => w.events.length >= 1, 'the stream\'s initial ADDED');
    const watching = () => apiStore.open().filter((k) => k === 'APIService').length;
    const before = watching();
    // -v=6: its requests on stderr, kept apart, for the message of a failure.
    const kubectl = spawn('kubectl', ['--server', api.url, '-v=6', 'get', 'apiservice', NAME, '-w', '-o', 'jsonpath={.status.conditions[0].reason}{"\\n"}'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = '', requests = '';
    kubectl.stdout.on('data', (d) => (printed += d));
    kubectl.stderr.on('data', (d) => (requests += d));
    // kubectl prints the object it GETs, then watches from resourceVersion 0 and skips that watch's first event (the
    // object as it is then, which it has printed): a change made before its watch is registered would be in that
    // skipped event and never printed (a loaded CI machine saw it). So the changes wait for its watch.
    await until(() => printed.includes('\n') && watching() > before, 'kubectl\'s row and its watch registered');
    assert.equal(reasons(w.events).map((r) => r.slice(0, 2)), [['ADDED', 'ServiceNotFound']]);
    await store.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'adapter', namespace: 'monitoring' }, spec: { ports: [{ name: 'https', port: 443 }] } });
    const afterService = await rv();
    await store.create(endpoints(false));
    const afterNotReady = await rv();
    // Another not-ready address: the same condition, so no status write on a cluster, and no event here.
    await store.update(endpoints(false, '10.0.0.2'));
    await store.update(endpoints(true));
    const afterReady = await rv();
    await until(() => w.events.length >= 4, 'three MODIFIED');
    assert.equal(reasons(w.events), [
      ['ADDED', 'ServiceNotFound', w.events[0].object.metadata.resourceVersion],
      ['MODIFIED', 'EndpointsNotFound', afterService], ['MODIFIED', 'MissingEndpoints', afterNotReady], ['MODIFIED', 'NotAggregated', afterReady],
    ]);
    try {
      await until(() => printed.split('\n').length > 4, 'kubectl\'s four rows')
        .catch((e: Error) => { throw new Error(`${e.message}: it printed ${JSON.stringify(printed)}; its requests:\n${requests}`); });
      assert.equal(printed.split('\n').filter(Boolean), ['ServiceNotFound', 'EndpointsNotFound', 'MissingEndpoints', 'NotAggregated']);
    } finally {
      kubectl.kill();
    }
    // A read shows the same object the last event did.
    const got = await (await fetch(`${api.url}/apis/apiregistration.k8s.io/v1/apiservices/${NAME}`)).json() as any;
    assert.equal([got.metadata.resourceVersion, got.status.conditions[0].reason], [afterReady, 'NotAggregated']);
  } finally {
    w.stop();
  }
});

test('a watch from a version replays the status changes after it, in version order with the APIService\'s own', async () => {
  const from = await rv();
  await store.update(endpoints(false));
  const down = await rv();
  await store.update({ ...apiService(NAME, { namespace: 'monitoring', name: 'adapter', port: 443 }), metadata: { name: NAME, labels: { tier: 'metrics' } } });
  const relabelled = await rv();
  await store.update(endpoints(true));
  const up = await rv();
  const w = stream(`/apis/apiregistration.k8s.io/v1/apiservices?watch=1&resourceVersion=${from}`);
  await until(() => w.events.length >= 3, 'the replay');
  assert.equal(reasons(w.events), [['MODIFIED', 'MissingEndpoints', down], ['MODIFIED', 'MissingEndpoints', relabelled], ['MODIFIED', 'NotAggregated', up]]);
  assert.equal(w.events[1].object.metadata.labels, { tier: 'metrics' });
  w.stop();
});

test('the Service and Endpoints informers run only while a committed APIService names a Service', async () => {
  const counted = counting(store);
  const a = new ApiServiceAvailability(counted);
  try {
    await a.ready();
    assert.equal(counted.open(), ['APIService', 'Endpoints', 'Service'], 'one names monitoring/adapter');
    await store.delete('APIService', undefined, NAME);
    await until(() => counted.open().length === 1, 'Service and Endpoints informers stopped');
    assert.equal(counted.open(), ['APIService']);
    await store.create(apiService('v1.local.example.com'));
    await a.ready();
    assert.equal(counted.open(), ['APIService'], 'a Local one needs no Service');
    await store.create(apiService(NAME, { namespace: 'monitoring', name: 'adapter', port: 443 }));
    await a.ready();
    assert.equal(counted.open(), ['APIService', 'Endpoints', 'Service']);
    const o = await a.current((await store.get('APIService', undefined, NAME))!);
    assert.is(o.status!.conditions[0].reason, 'NotAggregated', 'judged from the informers started again');
  } finally {
    a.stop();
  }
  assert.equal(counted.open(), []);
});

test('stop() is final: ready() after it is refused and starts nothing, and a ready() under way when it stops leaves nothing running', async () => {
  const counted = counting(store);
  const late = new ApiServiceAvailability(counted);
  late.stop();
  await late.ready().then(() => assert.unreachable('ready() after stop()'), (e) => assert.equal([e.code, e.message], [503, 'the API server is shutting down']));
  assert.equal(counted.open(), []);

  const racing = new ApiServiceAvailability(counted);
  const starting = racing.ready();
  racing.stop();
  await starting.then(() => assert.unreachable('ready() that stop() overtook'), (e) => assert.is(e.code, 503));
  assert.equal(counted.open(), [], 'every informer it started is stopped');

  // Stopped while the Service and Endpoints informers start (the APIService informer is up).
  const mid = new ApiServiceAvailability(counted);
  await mid.ready();
  await store.delete('APIService', undefined, NAME);
  await until(() => counted.open().length === 1, 'only the APIService informer');
  await store.create(apiService(NAME, { namespace: 'monitoring', name: 'adapter', port: 443 })); // starts them
  mid.stop();
  await mid.ready().then(() => assert.unreachable('ready() after stop()'), (e) => assert.is(e.code, 503));
  // The informers that were starting stop once their start ends (a leak times out here).
  await until(() => counted.open().length === 0, 'no watch left open');
});

test.run();
