// The nodes' view of Services and Endpoints (src/node/out-of-service.ts): a leaving pod waits until no Service
// sends to it; one view serves every node of a serve.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { KubeObject } from '../../src/model/object.ts';
import { PROXIED_GENERATION } from '../../src/model/proxied.ts';
import { OutOfService } from '../../src/node/out-of-service.ts';
import { startEngine } from '../../src/cli/engine.ts';
import type { Store } from '../../src/store/store.ts';
import { cleanup, freshStore, pod } from '../store/helpers.ts';
import { until } from '../support/wait.ts';

test.after.each(cleanup);

const service = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { selector: { app: 'web' }, ports: [{ port: 80 }] } };

/** The Endpoints of `web` listing `uids`, as a proxy has put them into effect (its generation acknowledged). */
async function setEndpoints(store: Store, uids: string[]): Promise<void> {
  const cur = await store.get('Endpoints', 'default', 'web');
  const subsets = uids.length ? [{ addresses: uids.map((uid, i) => ({ ip: `127.1.0.${i + 1}`, targetRef: { kind: 'Pod', namespace: 'default', name: uid, uid } })), ports: [{ port: 80, protocol: 'TCP' }] }] : [];
  const written = cur
    ? await store.update({ ...cur, subsets })
    : await store.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets });
  const generation = String(written.metadata.generation ?? 1);
  await store.update({ ...written, metadata: { ...written.metadata, annotations: { [PROXIED_GENERATION]: generation } } });
}

test('a wait ends once the Endpoints no longer list the pod, at its timeout, when its node gives up, or at stop', async () => {
  const { store } = await freshStore();
  await store.create(service as KubeObject);
  const a = await store.create(pod('a', { app: 'web' })), b = await store.create(pod('b', { app: 'web' }));
  const other = await store.create(pod('other', { app: 'db' }));
  await setEndpoints(store, [a.metadata.uid!, b.metadata.uid!]);
  const view = new OutOfService(store);
  await view.start();
  try {
    assert.not.ok(view.isOut(a));
    assert.ok(view.isOut(other), 'no Service selects it');
    const ended: string[] = [];
    const waits = [
      view.wait(a, 60_000, () => false).then(() => ended.push('a')),
      // Two nodes' waits on one view: each ends by its own pod.
      view.wait(b, 60_000, () => false).then(() => ended.push('b')),
    ];
    await setEndpoints(store, [b.metadata.uid!]);
    await until(() => ended.includes('a'), 'a out of service');
    assert.equal(ended, ['a'], 'b is still listed');
    let giveUp = false;
    const gaveUp = view.wait(b, 60_000, () => giveUp).then(() => ended.push('b, its node stopping'));
    giveUp = true;
    view.recheck();
    await gaveUp;
    assert.equal(ended, ['a', 'b, its node stopping'], 'the first wait for b goes on');
    const t0 = performance.now();
    await view.wait(b, 50, () => false);
    assert.ok(performance.now() - t0 >= 45, 'the timeout');
    view.stop();
    await Promise.all(waits);
    assert.equal(ended, ['a', 'b, its node stopping', 'b'], 'stop ends the rest');
  } finally {
    view.stop();
  }
});

test('a serve of many nodes watches Services and Endpoints as often as a serve of one', async () => {
  const watchesOf = async (nodes: number): Promise<number> => {
    const { store } = await freshStore();
    const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-oos-'));
    let count = 0;
    const watch = store.watch.bind(store);
    store.watch = (opts, handler) => {
      if (opts.kind === 'Endpoints' || opts.kind === 'Service') count++;
      return watch(opts, handler);
    };
    const engine = await startEngine({
      store, dataDir, exportTree: async () => {}, host: '127.0.0.1', nodes, nodeName: 'hollow', capacity: {}, labels: {},
      restartBackoff: { baseMs: 10_000, maxMs: 300_000 }, log: () => {}, hollow: { startDelayMs: 0 },
      serviceCIDR: '127.2.0.0/16', clusterCIDR: '127.1.0.0/16', ingressPort: 0, ingressTlsPort: 0,
    });
    try {
      return count;
    } finally {
      await engine.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  };
  const one = await watchesOf(1), ten = await watchesOf(10);
  assert.ok(one >= 2, `${one}`);
  assert.is(ten, one, 'each node had a Service and an Endpoints informer of its own: every change reached each');
});

test.run();
