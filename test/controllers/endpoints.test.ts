// The endpoints controller against a real store; the test plays kubelet by writing pod IPs and readiness.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store, WatchEvent } from '../../src/store/store.ts';
import { startControllers, type ControllersOptions } from '../../src/controllers/manager.ts';
import { endpointSubsets, type EndpointSubset } from '../../src/controllers/endpoint-subsets.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';
import { runPod } from './helpers.ts';
import { componentRegistry } from '../../src/model/metrics-registry.ts';

test.after.each(cleanup);

function service(name: string, selector: Record<string, string> | undefined, extra: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default', labels: { tier: 'front' } },
    spec: {
      ...(selector && { selector }),
      ports: [{ name: 'http', port: 80, targetPort: 'web', protocol: 'TCP' }, { name: 'metrics', port: 9090, targetPort: 9100, protocol: 'TCP' }],
      ...extra,
    },
  };
}

function pod(name: string, labels: Record<string, string>, namedPort = true): KubeObject {
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels },
    spec: { containers: [{ name: 'web', image: 'x', ...(namedPort && { ports: [{ name: 'web', containerPort: 8080, protocol: 'TCP' }] }) }] },
  };
}

const address = (p: KubeObject) => ({ ip: p.status.podIP, nodeName: 'node-1', targetRef: { kind: 'Pod', namespace: 'default', name: p.metadata.name, uid: p.metadata.uid } });
const BOTH = [{ name: 'http', port: 8080, protocol: 'TCP' }, { name: 'metrics', port: 9100, protocol: 'TCP' }];
const METRICS = [{ name: 'metrics', port: 9100, protocol: 'TCP' }];

async function withEndpoints<T>(store: Store, fn: () => Promise<T>, more: Partial<ControllersOptions> = {}): Promise<T> {
  const c = await startControllers({ store, only: ['endpoints'], queue: { baseDelayMs: 5, maxDelayMs: 50 }, ...more });
  try {
    return await fn();
  } finally {
    await c.stop();
  }
}

const endpoints = (store: Store, name = 'web') => store.get('Endpoints', 'default', name);
const subsets = (ep: KubeObject | undefined) => (ep?.subsets ?? []) as EndpointSubset[];

test('ready and not-ready addresses, named and numeric targetPorts, a pod without the named port in its own subset', async () => {
  const { store } = await freshStore();
  const seen: WatchEvent[] = [];
  await store.watch({ kind: 'Endpoints' }, (e) => { seen.push(e); });
  await withEndpoints(store, async () => {
    for (const name of ['ready', 'starting', 'no-ip', 'leaving']) await store.create(pod(name, { app: 'web' }));
    await store.create(pod('metrics-only', { app: 'web' }, false));
    await store.create(pod('other-app', { app: 'db' }));
    const ready = await runPod(store, 'ready', { ready: true, ip: '127.1.0.10' });
    const starting = await runPod(store, 'starting', { ready: false, ip: '127.1.0.9' });
    const metricsOnly = await runPod(store, 'metrics-only', { ready: true, ip: '127.1.0.3' });
    await runPod(store, 'no-ip', { ready: false });
    await runPod(store, 'other-app', { ready: true, ip: '127.1.0.4' });
    await runPod(store, 'leaving', { ready: true, ip: '127.1.0.5' });
    await store.delete('Pod', 'default', 'leaving'); // bound: marked, still has its IP, no longer an endpoint
    await store.create(service('web', { app: 'web' }));

    const ep = await until(() => endpoints(store), 'the Endpoints');
    assert.equal(ep.metadata.labels, { tier: 'front' });
    assert.equal(ep.subsets, [
      { addresses: [address(ready)], notReadyAddresses: [address(starting)], ports: BOTH },
      { addresses: [address(metricsOnly)], ports: METRICS },
    ]);

    await runPod(store, 'starting', { ready: true, ip: '127.1.0.9' });
    const next = await until(async () => { const e = await endpoints(store); return subsets(e)[0]?.addresses?.length === 2 && e; }, 'starting becomes ready');
    assert.equal(subsets(next)[0], { addresses: [address(starting), address(ready)], ports: BOTH }, '127.1.0.9 sorts before 127.1.0.10');

    await store.delete('Service', 'default', 'web');
    await until(async () => !(await endpoints(store)), 'the Endpoints deleted with its Service');
  });
  assert.equal(seen.map((e) => e.type), ['ADDED', 'MODIFIED', 'DELETED'], 'one write per change, none when nothing changed');
});

test('a Service without a selector: its Endpoints are left alone; a selector matching nothing gives no subsets', async () => {
  const { store } = await freshStore();
  await withEndpoints(store, async () => {
    await store.create(service('external', undefined));
    const manual = await store.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ port: 5432, protocol: 'TCP' }] }] });
    await store.create(service('empty', { app: 'none' }));
    const empty = await until(() => endpoints(store, 'empty'), 'Endpoints of empty');
    assert.is(empty.subsets, undefined);
    // Both Services were synced before 'empty' had its Endpoints (one worker, in order): the manual one is untouched.
    assert.equal(await endpoints(store, 'external'), manual);
  });
});

test('a leftover Endpoints whose Service went while the controller was down is deleted at start', async () => {
  const { store } = await freshStore();
  await store.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'gone', namespace: 'default' } });
  await withEndpoints(store, async () => {
    await until(async () => !(await endpoints(store, 'gone')), 'the leftover deleted');
  });
});

/** Keys the endpoints controller's queue has been given in this process. */
async function endpointsAdds(): Promise<number> {
  const values = (await componentRegistry.getSingleMetric('workqueue_adds_total')!.get()).values;
  return Number(values.find((v) => v.labels.name === 'endpoints')?.value ?? 0);
}

test('an Endpoints whose addresses someone else changed is put right; an annotation alone (a proxy acknowledging it) is no sync', async () => {
  const { store } = await freshStore();
  await withEndpoints(store, async () => {
    await store.create(pod('a', { app: 'web' }));
    const a = await runPod(store, 'a', { ready: true, ip: '127.1.0.7' });
    await store.create(service('web', { app: 'web' }));
    const want = [{ addresses: [address(a)], ports: BOTH }];
    const ep: KubeObject = await until(async () => { const e = await endpoints(store); return e?.subsets ? e : undefined; }, 'the Endpoints');
    assert.equal(ep.subsets, want);
    const adds = await endpointsAdds();
    // Watchers are told in the order they came: once this one has seen the annotation, the controller has too.
    let seen = false;
    const unwatch = await store.watch({ kind: 'Endpoints' }, (e) => { if (e.object.metadata.annotations?.['example.com/seen']) seen = true; });
    await store.update({ ...ep, metadata: { ...ep.metadata, annotations: { 'example.com/seen': '1' } } });
    await until(() => seen, 'the annotation delivered');
    unwatch();
    assert.is(await endpointsAdds(), adds, 'no key queued for an annotation');
    const annotated = (await endpoints(store))!;
    await store.update({ ...annotated, subsets: [{ addresses: [{ ip: '10.9.9.9' }], ports: BOTH }] });
    await until(async () => { const e = await endpoints(store); return JSON.stringify(e?.subsets) === JSON.stringify(want) && e; }, 'the addresses put right');
    assert.ok((await endpointsAdds()) > adds);
  });
});

test('a pod change the Endpoints cannot show (its creation without an address, its binding, a restart count) queues nothing; its address, readiness and deletion do', async () => {
  const { store } = await freshStore();
  await withEndpoints(store, async () => {
    await store.create(service('web', { app: 'web' }));
    await until(() => endpoints(store), 'the Endpoints');
    // Watchers are told in the order they came: once this one has seen a pod change, the controller has too.
    let seen = 0;
    await store.watch({ kind: 'Pod' }, () => { seen++; });
    const settled = async (write: () => Promise<unknown>) => { const n = seen; await write(); await until(() => seen > n, 'the change delivered'); };
    const adds = await endpointsAdds();
    await settled(() => store.create(pod('a', { app: 'web' })));
    const unbound = (await store.get('Pod', 'default', 'a'))!;
    await settled(() => store.update({ ...unbound, spec: { ...unbound.spec, nodeName: 'node-1' } }));
    assert.is(await endpointsAdds(), adds, 'no key queued for a pod without an address');

    await runPod(store, 'a', { ready: true, ip: '127.1.0.7' });
    await until(async () => readyIps(await endpoints(store)).length === 1, 'its address listed');
    const listed = await endpointsAdds();
    assert.is(listed, adds + 1, 'one key queued for the address, none for the controller\'s own write of it');
    await settled(() => runPod(store, 'a', { ready: true, ip: '127.1.0.7', restarts: 1 }));
    assert.is(await endpointsAdds(), listed, 'no key queued for a restart count');
    // convergit stores a bare Pod's new spec: a named targetPort that now resolves elsewhere moves its address.
    const running = (await store.get('Pod', 'default', 'a'))!;
    await store.update({ ...running, spec: { ...running.spec, containers: [{ ...running.spec.containers[0], ports: [{ name: 'web', containerPort: 9090, protocol: 'TCP' }] }] } });
    await until(async () => subsets(await endpoints(store))[0]?.ports?.some((p) => p.port === 9090), 'the named port\'s new number');

    await runPod(store, 'a', { ready: false, ip: '127.1.0.7' });
    await until(async () => subsets(await endpoints(store))[0]?.notReadyAddresses?.length === 1, 'not ready');
    await store.delete('Pod', 'default', 'a'); // bound: marked, no longer an endpoint
    await until(async () => !(await endpoints(store))?.subsets, 'gone from the Endpoints');
    assert.ok((await endpointsAdds()) >= listed + 2);
  }, { endpoints: { batchPeriodMs: 0 } });
});

test('pure: output does not depend on pod order; headless Services without ports list addresses only', () => {
  const pods = ['c', 'a', 'b'].map((n, i) => ({ ...pod(n, { app: 'web' }), metadata: { name: n, namespace: 'default', uid: n, labels: { app: 'web' } }, status: { podIP: `127.1.0.${3 - i}`, conditions: [{ type: 'Ready', status: i ? 'True' : 'False' }] } }));
  const svc = service('web', { app: 'web' });
  assert.equal(endpointSubsets(svc, pods), endpointSubsets(svc, [...pods].reverse()));
  const headless = service('web', { app: 'web' }, { clusterIP: 'None', ports: [] });
  assert.equal(endpointSubsets(headless, pods).map((s) => [s.addresses?.map((a) => a.ip), s.notReadyAddresses?.map((a) => a.ip), s.ports]), [[['127.1.0.1', '127.1.0.2'], ['127.1.0.3'], undefined]]);
  assert.equal(endpointSubsets(service('web', { app: 'web' }, { ports: [] }), pods), [], 'a Service with neither ports nor clusterIP None lists nothing');
});

/** The Endpoints' ready IPs, in order. */
const readyIps = (ep: KubeObject | undefined) => subsets(ep).flatMap((s) => (s.addresses ?? []).map((a) => a.ip));

test('pod changes are batched per Service, leading edge, waiting in proportion to its addresses up to the period: a lone change syncs at once, one within the wait waits for its end with the others; a Service change never waits', async () => {
  const { store } = await freshStore();
  let clock = Date.parse('2026-12-06T00:00:00Z');
  // The queue's timers are held here: a batched change is synced only when the test fires its timer.
  const timers: { ms: number; fire: () => void }[] = [];
  const schedule = (fn: () => void, ms: number) => { timers.push({ ms, fire: fn }); return () => {}; };
  await withEndpoints(store, async () => {
    // Bound from the start, so that each runPod below is one change (its status).
    for (const name of ['a', 'b', 'c']) await store.create({ ...pod(name, { app: 'web' }), spec: { ...pod(name, {}).spec, nodeName: 'node-1' } });
    await store.create(service('web', { app: 'web' }));
    await until(() => endpoints(store), 'the Endpoints');
    await runPod(store, 'a', { ready: true, ip: '127.1.0.1' }); // the Endpoints listed nothing: no wait
    await until(async () => readyIps(await endpoints(store)).length === 1, 'a listed at once');
    assert.equal(timers.length, 0);

    // Within the wait of that sync (one address: 200 ms; the clock has not moved): both changes wait for one timer.
    await runPod(store, 'b', { ready: true, ip: '127.1.0.2' });
    await runPod(store, 'c', { ready: true, ip: '127.1.0.3' });
    await until(() => timers.length >= 1, 'a batch timer');
    assert.equal(timers.map((t) => t.ms), [200], 'the wait of one address; the second change joins the first\'s');
    assert.equal(readyIps(await endpoints(store)), ['127.1.0.1'], 'nothing written before the period is over');
    clock += 200;
    timers[0].fire();
    await until(async () => readyIps(await endpoints(store)).length === 3, 'b and c listed by the batch');

    // Three addresses: 600 ms, capped by the period (500 ms); a change 200 ms after that sync waits the other 300.
    clock += 200;
    await runPod(store, 'c', { ready: false, ip: '127.1.0.3' });
    await until(() => timers.length === 2, 'a second batch timer');
    assert.equal(timers[1].ms, 300);

    // The Service's own change is not held back by the batch waiting, and takes the pod change with it.
    const svc = (await store.get('Service', 'default', 'web'))!;
    await store.update({ ...svc, spec: { ...svc.spec, ports: [svc.spec.ports[0]] } });
    const synced = await until(async () => { const e = await endpoints(store); return subsets(e)[0]?.ports?.length === 1 && e; }, 'the Service change synced at once');
    assert.equal(readyIps(synced), ['127.1.0.1', '127.1.0.2']);
    assert.equal(timers.length, 2, 'no timer for the Service change');

    // A lone change, once the period since the last sync is over, syncs at once.
    clock += 10_000;
    await runPod(store, 'c', { ready: true, ip: '127.1.0.3' });
    await until(async () => readyIps(await endpoints(store)).length === 3, 'c listed again, at once');
    assert.equal(timers.length, 2, 'no timer for a lone change');
  }, { endpoints: { batchPeriodMs: 500, batchMsPerAddress: 200 }, now: () => new Date(clock), queue: { baseDelayMs: 5, maxDelayMs: 50, schedule } });
});

test('with a batch period of 0 every pod change syncs at once (Kubernetes\' default)', async () => {
  const { store } = await freshStore();
  const timers: number[] = [];
  const schedule = (fn: () => void, ms: number) => { timers.push(ms); const t = setTimeout(fn, ms); return () => clearTimeout(t); };
  await withEndpoints(store, async () => {
    await store.create(service('web', { app: 'web' }));
    for (const name of ['a', 'b']) await store.create(pod(name, { app: 'web' }));
    await runPod(store, 'a', { ready: true, ip: '127.1.0.1' });
    await until(async () => readyIps(await endpoints(store)).length === 1, 'a listed');
    await runPod(store, 'b', { ready: true, ip: '127.1.0.2' });
    await until(async () => readyIps(await endpoints(store)).length === 2, 'b listed');
  }, { endpoints: { batchPeriodMs: 0 }, queue: { baseDelayMs: 5, maxDelayMs: 50, schedule } });
  assert.equal(timers, [], 'nothing waited');
});

test.run();
