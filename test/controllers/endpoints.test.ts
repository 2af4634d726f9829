// The endpoints controller against a real store; the test plays kubelet by writing pod IPs and readiness.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store, WatchEvent } from '../../src/store/store.ts';
import { startControllers } from '../../src/controllers/manager.ts';
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

async function withEndpoints<T>(store: Store, fn: () => Promise<T>): Promise<T> {
  const c = await startControllers({ store, only: ['endpoints'], queue: { baseDelayMs: 5, maxDelayMs: 50 } });
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

test('pure: output does not depend on pod order; headless Services without ports list addresses only', () => {
  const pods = ['c', 'a', 'b'].map((n, i) => ({ ...pod(n, { app: 'web' }), metadata: { name: n, namespace: 'default', uid: n, labels: { app: 'web' } }, status: { podIP: `127.1.0.${3 - i}`, conditions: [{ type: 'Ready', status: i ? 'True' : 'False' }] } }));
  const svc = service('web', { app: 'web' });
  assert.equal(endpointSubsets(svc, pods), endpointSubsets(svc, [...pods].reverse()));
  const headless = service('web', { app: 'web' }, { clusterIP: 'None', ports: [] });
  assert.equal(endpointSubsets(headless, pods).map((s) => [s.addresses?.map((a) => a.ip), s.notReadyAddresses?.map((a) => a.ip), s.ports]), [[['127.1.0.1', '127.1.0.2'], ['127.1.0.3'], undefined]]);
  assert.equal(endpointSubsets(service('web', { app: 'web' }, { ports: [] }), pods), [], 'a Service with neither ports nor clusterIP None lists nothing');
});

test.run();
