// Committed EndpointSlices of a selector-less Service reach the proxy through a reflected Endpoints object, and the
// API serves the slices themselves (not the reflection), next to the slices it derives from Endpoints.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { startControllers } from '../../src/controllers/manager.ts';
import { subsetsOfSlices } from '../../src/controllers/endpoint-slice-reflection.ts';
import { REFLECTED_FROM } from '../../src/model/reflected-endpoints.ts';
import { listView, getView, viewOf } from '../../src/api/views.ts';
import { kindInfo } from '../../src/model/kinds.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';

test.after.each(cleanup);

const service = (name: string, selector?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'default' },
  spec: { ...(selector && { selector }), ports: [{ name: 'http', port: 80, targetPort: 8080, protocol: 'TCP' }] },
});
const slice = (name: string, svc: string, endpoints: any[], ports = [{ name: 'http', port: 8080, protocol: 'TCP' }], addressType = 'IPv4'): KubeObject => ({
  apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'default', labels: { 'kubernetes.io/service-name': svc } },
  addressType, endpoints, ports,
});

test('slices become subsets: one per port list, unset ready is ready, IPv6 slices left to IPv6', () => {
  const subsets = subsetsOfSlices([
    slice('b', 'db', [{ addresses: ['10.0.0.2'], conditions: { ready: false } }, { addresses: ['10.0.0.3'], hostname: 'db-1' }]),
    slice('a', 'db', [{ addresses: ['10.0.0.1'], conditions: { ready: true }, nodeName: 'n1' }]),
    slice('c', 'db', [{ addresses: ['10.0.0.4'] }], [{ name: 'admin', port: 9000, protocol: 'TCP' }]),
    slice('v6', 'db', [{ addresses: ['fd00::1'] }], undefined, 'IPv6'),
  ]);
  assert.equal(subsets, [
    { ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], addresses: [{ ip: '10.0.0.1', nodeName: 'n1' }, { ip: '10.0.0.3', hostname: 'db-1' }], notReadyAddresses: [{ ip: '10.0.0.2' }] },
    { ports: [{ name: 'admin', port: 9000, protocol: 'TCP' }], addresses: [{ ip: '10.0.0.4' }] },
  ]);
});

test('a selector-less Service with committed slices gets reflected Endpoints the API hides; committed Endpoints win', async () => {
  const { store } = await freshStore();
  const c = await startControllers({ store, only: ['endpointslice-reflection'], queue: { baseDelayMs: 5, maxDelayMs: 50 } });
  try {
    await store.create(service('external'));
    await store.create(slice('external-1', 'external', [{ addresses: ['10.0.0.1'] }]));
    const ep = await until(() => store.get('Endpoints', 'default', 'external'), 'the reflected Endpoints');
    assert.equal(ep.subsets, [{ ports: [{ name: 'http', port: 8080, protocol: 'TCP' }], addresses: [{ ip: '10.0.0.1' }] }]);
    assert.is(ep.metadata.annotations?.[REFLECTED_FROM], 'external-1');

    // A second slice joins; its removal takes its address away again.
    await store.create(slice('external-2', 'external', [{ addresses: ['10.0.0.2'] }]));
    await until(async () => ((await store.get('Endpoints', 'default', 'external'))?.subsets as any)?.[0]?.addresses?.length === 2, 'both slices reflected');

    // The API: the committed slices are served, the reflection is not an Endpoints a client sees.
    const slices = await listView(store, viewOf(kindInfo('EndpointSlice')!), { namespace: 'default' });
    assert.equal(slices.items.map((s) => s.metadata.name), ['external-1', 'external-2']);
    assert.is(await getView(store, viewOf(kindInfo('Endpoints')!), 'default', 'external'), undefined);
    assert.equal((await listView(store, viewOf(kindInfo('Endpoints')!), {})).items, []);

    // Slices that are left with no endpoints: the reflection stays, without subsets, other annotations kept.
    const cur = (await store.get('Endpoints', 'default', 'external'))!;
    await store.update({ ...cur, metadata: { ...cur.metadata, annotations: { ...cur.metadata.annotations, 'example.com/kept': 'yes' } } });
    for (const name of ['external-1', 'external-2']) {
      const s = (await store.get('EndpointSlice', 'default', name))!;
      await store.update({ ...s, endpoints: [] });
    }
    const emptied = await until(async () => { const e = await store.get('Endpoints', 'default', 'external'); return e && !('subsets' in e) && e; }, 'the reflection without subsets');
    assert.equal(emptied.metadata.annotations, { [REFLECTED_FROM]: 'external-1,external-2', 'example.com/kept': 'yes' });

    await store.delete('EndpointSlice', 'default', 'external-2');
    await store.delete('EndpointSlice', 'default', 'external-1');
    await until(async () => !(await store.get('Endpoints', 'default', 'external')), 'no slices: no reflection');

    // Endpoints someone else wrote (git) are left alone, slices or not.
    await store.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'external', namespace: 'default' }, subsets: [{ addresses: [{ ip: '10.9.9.9' }], ports: [{ port: 1, protocol: 'TCP' }] }] });
    await store.create(slice('external-3', 'external', [{ addresses: ['10.0.0.3'] }]));
    await store.create(service('with-selector', { app: 'x' }));
    await store.create(slice('selected-1', 'with-selector', [{ addresses: ['10.0.0.5'] }]));
    await until(async () => (await listView(store, viewOf(kindInfo('EndpointSlice')!), {})).items.length === 3, 'committed slices and the one derived from the Endpoints');
    const kept: any = await store.get('Endpoints', 'default', 'external');
    assert.equal(kept.subsets[0].addresses, [{ ip: '10.9.9.9' }]);
    assert.is(await store.get('Endpoints', 'default', 'with-selector'), undefined, 'a Service with a selector gets its Endpoints from its pods only');
  } finally {
    await c.stop();
  }
});

test.run();
