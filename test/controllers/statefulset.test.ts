// The StatefulSet controller (with the garbage collector) against a real store; the test plays scheduler and
// kubelet by writing pod status, and removes pods once they are marked, as the node does.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';
import { startControllers } from '../../src/controllers/manager.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';
import { runPod } from './helpers.ts';
import { newRevision } from '../../src/controllers/controller-revision.ts';

test.after.each(cleanup);

function sts(image: string, extra: Record<string, any> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db', namespace: 'default' },
    spec: {
      replicas: 3, serviceName: 'db', podManagementPolicy: 'OrderedReady', selector: { matchLabels: { app: 'db' } },
      updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } }, revisionHistoryLimit: 10,
      persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Delete' },
      template: { metadata: { labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image }] } },
      volumeClaimTemplates: [{ metadata: { name: 'data' }, spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } } }],
      ...extra,
    },
  };
}

const live = async (store: Store) => (await store.list('Pod')).filter((p) => !p.metadata.deletionTimestamp).map((p) => p.metadata.name).sort();
const revisionOf = async (store: Store, name: string) => (await store.get('Pod', 'default', name))?.metadata.labels?.['controller-revision-hash'];

/** What the node does with a marked pod: stops it and removes it. */
async function removeMarked(store: Store): Promise<string[]> {
  const marked = (await store.list('Pod')).filter((p) => p.metadata.deletionTimestamp);
  for (const p of marked) await store.delete('Pod', 'default', p.metadata.name, { gracePeriodSeconds: 0 });
  return marked.map((p) => p.metadata.name);
}

async function update(store: Store, change: (spec: any) => void): Promise<void> {
  const cur = (await store.get('StatefulSet', 'default', 'db'))!;
  const next = structuredClone(cur);
  change(next.spec);
  await store.update(next);
}

test('ordered start with claims, a rolling update from the highest ordinal, a rollback to the same revision, scale-down deleting the claim', async () => {
  const { store } = await freshStore();
  const logs: string[] = [];
  const c = await startControllers({ store, only: ['statefulset', 'garbage-collector'], log: (m) => logs.push(m), queue: { baseDelayMs: 5, maxDelayMs: 50 } });
  try {
    await store.create(sts('redis:6'));
    // OrderedReady: db-0 with its claim, then nothing until db-0 is Ready.
    await until(async () => (await live(store)).join() === 'db-0', 'db-0');
    const claim = (await store.get('PersistentVolumeClaim', 'default', 'data-db-0'))!;
    assert.ok(claim, 'the claim exists before the pod');
    assert.equal(claim.metadata.ownerReferences, undefined, 'whenDeleted: Retain and db-0 a replica: no owner');
    const db0 = (await store.get('Pod', 'default', 'db-0'))!;
    assert.equal([db0.spec.hostname, db0.spec.subdomain, db0.spec.volumes], ['db-0', 'db', [{ name: 'data', persistentVolumeClaim: { claimName: 'data-db-0' } }]]);
    logs.length = 0;
    await runPod(store, 'db-0', { ready: false });
    await until(() => logs.includes('statefulset: default/db: pod db-0 is not Running and Ready (Running, not Ready)'), 'a sync that saw db-0 running, not ready');
    assert.equal(await live(store), ['db-0'], 'db-1 waits for db-0 to be Ready');
    for (const [i, name] of ['db-0', 'db-1', 'db-2'].entries()) {
      await until(async () => (await live(store)).includes(name), name);
      await runPod(store, name, { ready: true });
      assert.equal((await live(store)).length, i + 1);
    }
    const rev1 = (await revisionOf(store, 'db-0'))!;
    const status = await until(async () => { const s = (await store.get('StatefulSet', 'default', 'db'))!.status; return s?.readyReplicas === 3 && s; }, 'ready');
    assert.equal(status, { observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3, currentRevision: rev1, updateRevision: rev1, collisionCount: 0 });

    // A new template: db-2 goes first, and db-1 only once db-2 is back and Ready.
    await update(store, (s) => { s.template.spec.containers[0].image = 'redis:7'; });
    await until(async () => (await removeMarked(store)).join() === 'db-2', 'db-2 replaced first');
    await until(async () => (await live(store)).includes('db-2'), 'db-2 back');
    const rev2 = (await revisionOf(store, 'db-2'))!;
    assert.is.not(rev2, rev1);
    assert.equal((await store.get('Pod', 'default', 'db-2'))!.spec.containers[0].image, 'redis:7');
    assert.equal(await removeMarked(store), [], 'db-1 waits for db-2 to be Ready');
    await runPod(store, 'db-2', { ready: true });
    for (const name of ['db-1', 'db-0']) {
      await until(async () => (await removeMarked(store)).join() === name, `${name} replaced`);
      await until(async () => (await revisionOf(store, name)) === rev2, `${name} at the new revision`);
      await runPod(store, name, { ready: true });
    }
    await until(async () => (await store.get('StatefulSet', 'default', 'db'))!.status?.currentRevision === rev2, 'rollout complete');

    // Back to the first template: the first ControllerRevision again, renumbered 3, no new one.
    await update(store, (s) => { s.template.spec.containers[0].image = 'redis:6'; });
    await until(async () => (await store.get('StatefulSet', 'default', 'db'))!.status?.updateRevision === rev1, 'update revision is the first one');
    const revisions = await store.list('ControllerRevision');
    assert.equal(revisions.map((r) => [r.metadata.name, r.revision]).sort(), [[rev1, 3], [rev2, 2]].sort());
    await until(async () => (await removeMarked(store)).join() === 'db-2', 'db-2 rolled back first');
    await until(async () => (await revisionOf(store, 'db-2')) === rev1, 'db-2 at the first revision');
    await runPod(store, 'db-2', { ready: true });
    for (const name of ['db-1', 'db-0']) {
      await until(async () => (await removeMarked(store)).join() === name, `${name} rolled back`);
      await until(async () => (await revisionOf(store, name)) === rev1, `${name} at the first revision`);
      await runPod(store, name, { ready: true });
    }

    // Scale to 1 with whenScaled: Delete: db-2's claim is owned by db-2 before it goes, then collected with it.
    await update(store, (s) => { s.replicas = 1; });
    await until(async () => (await removeMarked(store)).join() === 'db-2', 'db-2 scaled down first');
    await until(async () => !(await store.get('PersistentVolumeClaim', 'default', 'data-db-2')), 'data-db-2 deleted with its pod');
    assert.ok(await store.get('PersistentVolumeClaim', 'default', 'data-db-1'), 'data-db-1 is kept until db-1 goes');
    await until(async () => (await removeMarked(store)).join() === 'db-1', 'db-1 scaled down');
    await until(async () => !(await store.get('PersistentVolumeClaim', 'default', 'data-db-1')), 'data-db-1 deleted');
    assert.ok(await store.get('PersistentVolumeClaim', 'default', 'data-db-0'), 'the remaining replica keeps its claim');
    const events = (await store.list('Event')).map((e) => e.message as string);
    assert.ok(events.includes('create Claim data-db-0 Pod db-0 in StatefulSet db success'), events.join('\n'));
    assert.ok(events.includes('delete Pod db-2 in StatefulSet db successful'));
  } finally {
    await c.stop();
  }
});

test('Parallel starts every ordinal at once; deleting a set with whenDeleted: Delete collects its pods, revisions and claims', async () => {
  const { store } = await freshStore();
  const c = await startControllers({ store, only: ['statefulset', 'garbage-collector'], log: () => {}, queue: { baseDelayMs: 5, maxDelayMs: 50 } });
  try {
    const set = await store.create(sts('redis:6', { podManagementPolicy: 'Parallel', persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Delete', whenScaled: 'Retain' } }));
    await until(async () => (await live(store)).join() === 'db-0,db-1,db-2', 'all three at once, none ready');
    const claims = await until(async () => {
      const cs = await store.list('PersistentVolumeClaim');
      return cs.length === 3 && cs.every((c) => c.metadata.ownerReferences?.[0]?.uid === set.metadata.uid) && cs;
    }, 'claims owned by the set');
    assert.equal(claims.map((c) => c.metadata.name).sort(), ['data-db-0', 'data-db-1', 'data-db-2']);
    assert.is((await store.list('ControllerRevision')).length, 1);
    await store.delete('StatefulSet', 'default', 'db');
    await until(async () => (await store.list('PersistentVolumeClaim')).length === 0 && (await store.list('ControllerRevision')).length === 0 && (await store.list('Pod')).length === 0, 'everything collected');
  } finally {
    await c.stop();
  }
});

test('a revision name taken by another template bumps collisionCount and names the revision anew', async () => {
  const { store } = await freshStore();
  const taken = newRevision(sts('redis:6'), 1, 0);
  await store.create({ ...taken, metadata: { ...taken.metadata, ownerReferences: undefined }, data: { spec: { template: { $patch: 'replace' } } } });
  const c = await startControllers({ store, only: ['statefulset'], log: () => {}, queue: { baseDelayMs: 5, maxDelayMs: 50 } });
  try {
    await store.create(sts('redis:6', { replicas: 1 }));
    const status = await until(async () => (await store.get('StatefulSet', 'default', 'db'))!.status, 'status');
    assert.is(status.collisionCount, 1);
    assert.is(status.updateRevision, newRevision(sts('redis:6'), 1, 1).metadata.name);
    assert.is.not(status.updateRevision, taken.metadata.name);
  } finally {
    await c.stop();
  }
});

test.run();
