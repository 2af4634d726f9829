// The garbage collector against a real store: cascades, uid checks, and owners that partly remain.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject, OwnerReference } from '../../src/model/object.ts';
import { ownerRefTo } from '../../src/model/pod.ts';
import { startControllers } from '../../src/controllers/manager.ts';
import { garbageCollector } from '../../src/controllers/garbage-collector.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';
import { bare, contextFor, replicaSet, runPod } from './helpers.ts';

test.after.each(cleanup);

const deployment = (name: string): KubeObject => ({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name, namespace: 'default' }, spec: { replicas: 1 } });
const owned = (o: KubeObject, ...owners: OwnerReference[]): KubeObject => ({ ...o, metadata: { ...o.metadata, ownerReferences: owners } });

test('cascade: deleting a Deployment removes its ReplicaSet, then its pods (a running pod gracefully)', async () => {
  const { store } = await freshStore();
  const c = await startControllers({ store, only: ['garbage-collector'], queue: { baseDelayMs: 5, maxDelayMs: 50 } });
  try {
    const deploy = await store.create(deployment('web'));
    const rs = await store.create(owned(replicaSet('web-5d4f8c9b7', 2), ownerRefTo(deploy)));
    await store.create(owned(bare('web-5d4f8c9b7-running', { app: 'web' }), ownerRefTo(rs)));
    await store.create(owned(bare('web-5d4f8c9b7-pending', { app: 'web' }), ownerRefTo(rs)));
    await store.create(owned(bare('web-5d4f8c9b7-done', { app: 'web' }), ownerRefTo(rs)));
    await runPod(store, 'web-5d4f8c9b7-running', { ready: true, ip: '127.1.0.2' });
    await runPod(store, 'web-5d4f8c9b7-done', { ready: false, phase: 'Succeeded' });
    await store.create(bare('bystander', { app: 'web' }));

    await store.delete('Deployment', 'default', 'web');
    await until(async () => !(await store.get('ReplicaSet', 'default', rs.metadata.name)), 'the ReplicaSet collected');
    const running = await until(async () => { const p = await store.get('Pod', 'default', 'web-5d4f8c9b7-running'); return !!p?.metadata.deletionTimestamp && p; }, 'the running pod marked');
    assert.is(running.metadata.deletionGracePeriodSeconds, 30);
    await until(async () => (await store.list('Pod')).length === 2, 'the unbound and the finished pods removed at once');
    assert.equal((await store.list('Pod')).map((p) => p.metadata.name).sort(), ['bystander', 'web-5d4f8c9b7-running']);
  } finally {
    await c.stop();
  }
});

test('an owner recreated under the same name (another uid) does not keep the old dependents', async () => {
  const { store } = await freshStore();
  const old = await store.create(deployment('web'));
  await store.delete('Deployment', 'default', 'web');
  await store.create(deployment('web')); // the namesake, e.g. after a git revert
  await store.create(owned(replicaSet('web-old', 1), ownerRefTo(old)));
  const c = await startControllers({ store, only: ['garbage-collector'], queue: { baseDelayMs: 5, maxDelayMs: 50 } });
  try {
    await until(async () => !(await store.get('ReplicaSet', 'default', 'web-old')), 'collected at start, despite the namesake');
  } finally {
    await c.stop();
  }
});

test('sync decisions: owners alive keep a dependent; some gone drops only those references; unknown kinds keep it', async () => {
  const { store } = await freshStore();
  const ctx = await contextFor(store, ['ReplicaSet', 'Pod', 'Deployment', 'Job', 'CronJob']);
  const gc = garbageCollector();
  try {
    const rs = await store.create(replicaSet('web', 1));
    const ghost: OwnerReference = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'ghost', uid: 'no-such-uid', controller: false };
    const job: OwnerReference = { apiVersion: 'argoproj.io/v1alpha1', kind: 'Workflow', name: 'migrate', uid: 'wf-uid', controller: true };
    await store.create(owned(bare('kept', {}), ownerRefTo(rs)));
    await store.create(owned(bare('half', {}), ownerRefTo(rs), ghost));
    await store.create(owned(bare('foreign', {}), job));
    await store.create(owned(bare('orphaned', {}), ghost));
    for (const name of ['kept', 'half', 'foreign', 'orphaned']) await gc.sync(`Pod/default/${name}`, ctx);

    const left = Object.fromEntries((await store.list('Pod')).map((p) => [p.metadata.name, p.metadata.ownerReferences?.map((r) => r.name)]));
    assert.equal(left, { kept: ['web'], half: ['web'], foreign: ['migrate'] });
  } finally {
    ctx.stop();
  }
});

test.run();
