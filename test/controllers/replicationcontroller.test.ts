// A ReplicationController runs as a ReplicaSet with an equality selector would, through the same controller.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { startControllers } from '../../src/controllers/manager.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';
import { bare, runPod } from './helpers.ts';

test.after.each(cleanup);

const rc = (replicas: number): KubeObject => ({
  apiVersion: 'v1', kind: 'ReplicationController', metadata: { name: 'legacy', namespace: 'default' },
  spec: { replicas, selector: { app: 'legacy' }, template: { metadata: { labels: { app: 'legacy' } }, spec: { containers: [{ name: 'c', image: 'x' }], restartPolicy: 'Always' } } },
});

test('keeps spec.replicas pods selected by its equality selector, adopts a matching orphan, scales down, reports status', async () => {
  const { store } = await freshStore();
  const c = await startControllers({ store, only: ['replicationcontroller'], log: () => {}, queue: { baseDelayMs: 5, maxDelayMs: 50 } });
  try {
    await store.create(bare('orphan', { app: 'legacy' }));
    const created = await store.create(rc(3));
    const pods = await until(async () => { const p = (await store.list('Pod')).filter((x) => !x.metadata.deletionTimestamp); return p.length === 3 && p; }, '3 pods');
    for (const p of pods) assert.equal(p.metadata.ownerReferences?.[0], { apiVersion: 'v1', kind: 'ReplicationController', name: 'legacy', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true });
    assert.ok(pods.some((p) => p.metadata.name === 'orphan'), 'the orphan is adopted and counted');
    for (const p of pods) await runPod(store, p.metadata.name, { ready: true });
    const status = await until(async () => { const s = (await store.get('ReplicationController', 'default', 'legacy'))!.status; return s?.readyReplicas === 3 && s; }, 'status');
    assert.is(status.replicas, 3);
    await store.update({ ...(await store.get('ReplicationController', 'default', 'legacy'))!, spec: rc(1).spec });
    await until(async () => (await store.list('Pod')).filter((x) => !x.metadata.deletionTimestamp).length === 1, 'scaled down to 1');
  } finally {
    await c.stop();
  }
});

test.run();
