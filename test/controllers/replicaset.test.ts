// The ReplicaSet controller against a real store; the test plays scheduler and kubelet by writing pod status.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';
import { startControllers } from '../../src/controllers/manager.ts';
import { sameForReplicaSet } from '../../src/controllers/replicaset.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';
import { bare, failing, isActive, ownedBy, replicaSet, runPod } from './helpers.ts';

test.after.each(cleanup);

const NAME = /^web-[bcdfghjklmnpqrstvwxz2456789]{5}$/;

async function withReplicaSets<T>(store: Store, fn: () => Promise<T>, now?: () => Date): Promise<T> {
  const logs: string[] = [];
  const c = await startControllers({ store, only: ['replicaset'], log: (m) => logs.push(m), queue: { baseDelayMs: 5, maxDelayMs: 50 }, ...(now && { now }) });
  try {
    return await fn();
  } finally {
    await c.stop();
  }
}

const activePods = async (store: Store) => (await store.list('Pod')).filter(isActive);
const rsStatus = async (store: Store) => (await store.get('ReplicaSet', 'default', 'web'))!.status;
const events = async (store: Store, reason: string) => (await store.list('Event')).filter((e) => e.reason === reason).map((e) => e.message as string).sort();

test('scale up: pods named <rs>-<5 chars>, with template labels, annotations and spec, owned by the ReplicaSet', async () => {
  const { store } = await freshStore();
  await withReplicaSets(store, async () => {
    const rs = await store.create(replicaSet('web', 3));
    const pods = await until(async () => { const p = await store.list('Pod'); return p.length === 3 && p; }, '3 pods');
    for (const p of pods) {
      assert.match(p.metadata.name, NAME);
      assert.equal(p.metadata.labels, { app: 'web', 'pod-template-hash': '5d4f8c9b7' });
      assert.equal(p.metadata.annotations, { team: 'blue' });
      assert.equal(p.spec, rs.spec.template.spec);
      assert.equal(p.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: rs.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    }
    const status = await until(async () => { const s = await rsStatus(store); return s?.replicas === 3 && s; }, 'status');
    assert.equal(status, { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 0, availableReplicas: 0, observedGeneration: 1 });
    assert.equal(await events(store, 'SuccessfulCreate'), pods.map((p) => `Created pod: ${p.metadata.name}`).sort());
  });
});

test('scale down deletes the not-ready pod first, gracefully; status counts what is left', async () => {
  const { store } = await freshStore();
  await withReplicaSets(store, async () => {
    await store.create(replicaSet('web', 3));
    const [a, b, c] = await until(async () => { const p = await store.list('Pod'); return p.length === 3 && p; }, '3 pods');
    await runPod(store, a.metadata.name, { ready: true });
    await runPod(store, b.metadata.name, { ready: false });
    await runPod(store, c.metadata.name, { ready: true });
    await until(async () => (await rsStatus(store))?.readyReplicas === 2, 'two ready');

    const rs = (await store.get('ReplicaSet', 'default', 'web'))!;
    await store.update({ ...rs, spec: { ...rs.spec, replicas: 2 } });
    const status = await until(async () => { const s = await rsStatus(store); return s?.observedGeneration === 2 && s.replicas === 2 && s; }, 'scaled down');
    assert.equal(status, { replicas: 2, fullyLabeledReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 2 });
    const marked = (await store.get('Pod', 'default', b.metadata.name))!;
    assert.ok(marked.metadata.deletionTimestamp, 'a bound pod is marked, for its node to stop');
    assert.equal((await activePods(store)).map((p) => p.metadata.name).sort(), [a.metadata.name, c.metadata.name].sort());
    assert.equal(await events(store, 'SuccessfulDelete'), [`Deleted pod: ${b.metadata.name}`]);
  });
});

test('adopts a matching orphan (counting it) and releases a pod relabelled out of its selector', async () => {
  const { store } = await freshStore();
  await withReplicaSets(store, async () => {
    // The orphan matches the selector but lacks the template's pod-template-hash: counted, not fully labelled.
    await store.create(bare('orphan', { app: 'web' }));
    await store.create(bare('stranger', { app: 'db' }));
    const rs = await store.create(replicaSet('web', 2));
    const pods = await until(async () => { const p = (await store.list('Pod')).filter((x) => ownedBy(x, rs)); return p.length === 2 && p; }, 'orphan adopted plus one');
    assert.ok(pods.some((p) => p.metadata.name === 'orphan'), 'adopted, not replaced');
    const status = await until(async () => { const s = await rsStatus(store); return s?.replicas === 2 && s; }, 'status');
    assert.is(status.fullyLabeledReplicas, 1);
    assert.is((await store.list('Pod')).length, 3, 'only one created');
    assert.not.ok((await store.get('Pod', 'default', 'stranger'))!.metadata.ownerReferences, 'a pod outside the selector is left alone');

    const created = pods.find((p) => p.metadata.name !== 'orphan')!;
    const cur = (await store.get('Pod', 'default', created.metadata.name))!;
    await store.update({ ...cur, metadata: { ...cur.metadata, labels: { app: 'debug' } } });
    const released = await until(async () => { const p = (await store.get('Pod', 'default', created.metadata.name))!; return !p.metadata.ownerReferences && p; }, 'released');
    assert.ok(released, 'the released pod still exists');
    await until(async () => (await store.list('Pod')).filter((x) => ownedBy(x, rs)).length === 2, 'a replacement');
    assert.is((await store.list('Pod')).length, 4);
  });
});

test('availableReplicas waits for minReadySeconds, then the controller looks again by itself', async () => {
  const { store } = await freshStore();
  // A clock the test moves: 900 ms after the second the second pod became ready (timestamps have seconds only).
  const second = Math.floor(Date.now() / 1000) * 1000;
  let t = second + 900;
  const now = () => new Date(t);
  await withReplicaSets(store, async () => {
    await store.create(replicaSet('web', 2, { minReadySeconds: 1 }));
    const [a, b] = await until(async () => { const p = await store.list('Pod'); return p.length === 2 && p; }, '2 pods');
    await runPod(store, a.metadata.name, { ready: true, readySince: new Date(second - 60_000).toISOString() });
    await runPod(store, b.metadata.name, { ready: true, readySince: new Date(second).toISOString() });
    const first = await until(async () => { const s = await rsStatus(store); return s?.readyReplicas === 2 && s; }, 'both ready');
    assert.is(first.availableReplicas, 1, 'the one ready for a minute is available; the other not yet');
    t = second + 1001;
    await until(async () => (await rsStatus(store))?.availableReplicas === 2, 'the second available, with no other change to trigger it', 5000);
  }, now);
});

test('a failing pod create: FailedCreate event and ReplicaFailure condition, cleared once creates succeed', async () => {
  const { store } = await freshStore();
  let broken = true;
  const faulty = failing(store, (op, kind) => (broken && op === 'create' && kind === 'Pod' ? new Error('exceeded quota: pods=2') : undefined));
  await withReplicaSets(faulty, async () => {
    await store.create(replicaSet('web', 2));
    const status = await until(async () => { const s = await rsStatus(store); return s?.conditions && s; }, 'ReplicaFailure');
    assert.equal(status.conditions.map((c: any) => [c.type, c.status, c.reason, c.message]), [['ReplicaFailure', 'True', 'FailedCreate', 'exceeded quota: pods=2']]);
    const failed = (await store.list('Event')).find((e) => e.reason === 'FailedCreate')!;
    assert.is(failed.type, 'Warning');
    assert.is(failed.message, 'Error creating: exceeded quota: pods=2');
    broken = false;
    const healed = await until(async () => { const s = await rsStatus(store); return s?.replicas === 2 && s; }, 'retried with backoff until the creates succeed');
    assert.is(healed.conditions, undefined);
    assert.is((await store.list('Pod')).length, 2);
  });
});

test('pods that finish or are being deleted are replaced; other ReplicaSets\' pods are not counted', async () => {
  const { store } = await freshStore();
  // A pod that matches both selectors but is controlled by the other ReplicaSet: never adopted, never counted. Both
  // exist before the controller starts: else it could sync `other` in between and create a pod of its own.
  const spec = replicaSet('other', 1).spec;
  const other = await store.create({ ...replicaSet('other', 1), spec: { ...spec, selector: { matchLabels: { role: 'x' } }, template: { ...spec.template, metadata: { labels: { role: 'x' } } } } });
  await store.create(bare('taken', { app: 'web', role: 'x' }, { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'other', uid: other.metadata.uid!, controller: true }] }));
  await withReplicaSets(store, async () => {
    const rs = await store.create(replicaSet('web', 1));
    const [first] = await until(async () => { const p = (await store.list('Pod')).filter((x) => ownedBy(x, rs)); return p.length === 1 && p; }, 'one pod');
    await runPod(store, first.metadata.name, { ready: false, phase: 'Failed' });
    const next = await until(async () => { const p = (await store.list('Pod')).filter((x) => ownedBy(x, rs) && x.status?.phase !== 'Failed'); return p.length === 1 && p; }, 'a replacement for the failed pod');
    assert.is.not(next[0].metadata.name, first.metadata.name);
    // The sync that creates the replacement writes the status it counted before (0, as Kubernetes' does); the
    // replacement's arrival brings the next sync, which counts it.
    await until(async () => (await rsStatus(store))?.replicas === 1, 'status counting the replacement, not the failed pod');
    assert.ok(ownedBy((await store.get('Pod', 'default', 'taken'))!, other), 'still the other\'s');
    assert.equal((await store.list('Pod')).filter((x) => ownedBy(x, other)).map((p) => p.metadata.name), ['taken'], 'the other made none: it counts taken');
    await until(async () => (await store.get('ReplicaSet', 'default', 'other'))?.status?.replicas === 1, 'the other counting taken');
  });
});

test('a pod change the sync cannot see (its binding, a container state) does not wake the ReplicaSet; one it counts does', () => {
  const base: KubeObject = {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'web-abcde', namespace: 'default', uid: 'u1', labels: { app: 'web' }, ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web', uid: 'rs', controller: true }] },
    spec: { containers: [{ name: 'c' }] },
    status: { phase: 'Pending' },
  };
  const bound = { ...base, metadata: { ...base.metadata, labels: { app: 'web' } }, spec: { ...base.spec, nodeName: 'n1' }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }] } };
  assert.ok(sameForReplicaSet(base, bound), 'bound: the same labels (an equal copy) and nothing counted changed');
  const ready = (since: string) => ({ ...bound, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: since }] } });
  assert.not.ok(sameForReplicaSet(bound, ready('t1')), 'Running and Ready');
  assert.ok(sameForReplicaSet(ready('t1'), { ...ready('t1'), status: { ...ready('t1').status, containerStatuses: [{ name: 'c', restartCount: 1 }] } }));
  assert.not.ok(sameForReplicaSet(ready('t1'), ready('t2')), 'ready since another time (minReadySeconds)');
  assert.not.ok(sameForReplicaSet(bound, { ...bound, metadata: { ...bound.metadata, labels: { app: 'other' } } }), 'relabelled');
  assert.not.ok(sameForReplicaSet(bound, { ...bound, metadata: { ...bound.metadata, ownerReferences: [] } }), 'released');
  assert.not.ok(sameForReplicaSet(bound, { ...bound, metadata: { ...bound.metadata, deletionTimestamp: 't3' } }), 'being deleted');
  assert.not.ok(sameForReplicaSet(bound, { ...bound, status: { phase: 'Failed' } }), 'finished');
});

test.run();
