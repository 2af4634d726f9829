// The Deployment controller with the ReplicaSet controller against a real store; the test plays scheduler and
// kubelet by marking pods Ready (and, for Recreate, by binding pods to a node and removing them when stopped).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';
import { StoreError } from '../../src/store/store.ts';
import { getCondition } from '../../src/model/conditions.ts';
import { isPodReady } from '../../src/model/pod.ts';
import { startControllers } from '../../src/controllers/manager.ts';
import { podTemplateHash } from '../../src/controllers/pod-template-hash.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';
import { lagging } from './helpers.ts';

test.after.each(cleanup);

const REVISION = 'deployment.kubernetes.io/revision';

function deployment(spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: 'web' } },
      template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'git:apps/web@v1' }], restartPolicy: 'Always' } },
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      minReadySeconds: 0,
      ...spec,
    },
  };
}

/** The Deployment and ReplicaSet controllers, with fast retries and a short progress-deadline recheck. */
async function withControllers<T>(store: Store, fn: () => Promise<T>, controllerStore: Store = store): Promise<T> {
  const logs: string[] = [];
  const c = await startControllers({
    store: controllerStore, only: ['deployment', 'replicaset'], log: (m) => logs.push(m),
    queue: { baseDelayMs: 5, maxDelayMs: 50 }, deployment: { progressCheckSlackMs: 20 },
  });
  try {
    return await fn();
  } finally {
    await c.stop();
    assert.equal(logs.filter((l) => !/NotFound/.test(l)), [], 'controller errors');
  }
}

const getD = async (store: Store) => (await store.get('Deployment', 'default', 'web'))!;
const replicaSets = async (store: Store) => (await store.list('ReplicaSet')).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
const livePods = async (store: Store) => (await store.list('Pod')).filter((p) => !p.metadata.deletionTimestamp);
const events = async (store: Store, reason: string) =>
  (await store.list('Event')).filter((e) => e.reason === reason && (e.involvedObject as { kind: string }).kind === 'Deployment').map((e) => e.message as string);
const progressing = (d: KubeObject) => getCondition(d.status?.conditions, 'Progressing');
const rsFor = (template: unknown) => `web-${podTemplateHash(template as never)}`;

/** What a kubelet would write once a pod's containers run and pass readiness. Pods may vanish meanwhile. */
async function markReady(store: Store, pod: KubeObject): Promise<void> {
  try {
    await store.updateStatus('Pod', 'default', pod.metadata.name, {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
    });
  } catch (err) {
    if (!(err instanceof StoreError && err.reason === 'NotFound')) throw err;
  }
}

/** Marks the pods of the rollout ready one at a time, until the Deployment reports the rollout complete. */
async function completeRollout(store: Store, what = 'rollout complete'): Promise<KubeObject> {
  return until(async () => {
    const d = await getD(store);
    const s = d.status ?? {};
    const want = d.spec.replicas;
    if (s.observedGeneration === d.metadata.generation && s.updatedReplicas === want && s.replicas === want && s.availableReplicas === want
      && progressing(d)?.reason === 'NewReplicaSetAvailable' && (await livePods(store)).length === want) return d;
    const waiting = (await livePods(store)).find((p) => !isPodReady(p));
    if (waiting) await markReady(store, waiting);
    return undefined;
  }, what);
}

async function setTemplate(store: Store, change: (d: KubeObject) => void): Promise<KubeObject> {
  const d = structuredClone(await getD(store));
  change(d);
  delete d.metadata.resourceVersion; // as a git apply writes it
  return store.update(d);
}
const setImage = (store: Store, image: string) => setTemplate(store, (d) => { d.spec.template.spec.containers[0].image = image; });

/** Watches ReplicaSets and pods, checking the rollout bounds after every single change. */
async function watchBounds(store: Store, maxTotal: number, minReady: number) {
  const specs = new Map<string, number>();
  const ready = new Map<string, boolean>();
  for (const rs of await store.list('ReplicaSet')) specs.set(rs.metadata.name, rs.spec.replicas);
  for (const p of await store.list('Pod')) ready.set(p.metadata.name, isPodReady(p) && !p.metadata.deletionTimestamp);
  const seen = { maxTotal: 0, minReady: Infinity, violations: [] as string[] };
  const check = (why: string) => {
    const total = [...specs.values()].reduce((a, b) => a + b, 0);
    const r = [...ready.values()].filter(Boolean).length;
    seen.maxTotal = Math.max(seen.maxTotal, total);
    seen.minReady = Math.min(seen.minReady, r);
    if (total > maxTotal) seen.violations.push(`${why}: ReplicaSets ask for ${total} pods > ${maxTotal}`);
    if (r < minReady) seen.violations.push(`${why}: ${r} ready pods < ${minReady}`);
  };
  const stop = await store.watch({}, (e) => {
    const o = e.object;
    if (o.kind === 'ReplicaSet') {
      if (e.type === 'DELETED') specs.delete(o.metadata.name);
      else specs.set(o.metadata.name, o.spec.replicas);
    } else if (o.kind === 'Pod') {
      if (e.type === 'DELETED') ready.delete(o.metadata.name);
      else ready.set(o.metadata.name, isPodReady(o) && !o.metadata.deletionTimestamp);
    } else return;
    check(`${e.type} ${o.kind} ${o.metadata.name}`);
  });
  return { seen, stop };
}

test('create: a ReplicaSet web-<pod-template-hash> owned by the Deployment, then status and conditions as Kubernetes', async () => {
  const { store } = await freshStore();
  await withControllers(store, async () => {
    const created = await store.create(deployment());
    const name = rsFor(created.spec.template);
    const rs = await until(async () => (await store.get('ReplicaSet', 'default', name)), 'the ReplicaSet');
    assert.equal(rs.metadata.labels, { app: 'web', 'pod-template-hash': name.slice(4) });
    assert.equal(rs.spec.selector, { matchLabels: { app: 'web', 'pod-template-hash': name.slice(4) } });
    assert.equal(rs.spec.template.metadata.labels, { app: 'web', 'pod-template-hash': name.slice(4) });
    assert.equal(rs.spec.template.spec, created.spec.template.spec);
    assert.equal([rs.spec.replicas, rs.spec.minReadySeconds], [3, 0]);
    assert.equal(rs.metadata.ownerReferences, [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: created.metadata.uid, controller: true, blockOwnerDeletion: true }]);
    // 25% of 3: surge rounds up to 1, so at most 4.
    assert.equal(rs.metadata.annotations, { [REVISION]: '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });

    const pending = await until(async () => { const d = await getD(store); return d.status?.updatedReplicas === 3 && d; }, 'pods counted');
    assert.is(pending.metadata.annotations?.[REVISION], '1');
    assert.equal(pending.spec, created.spec, 'the spec is never changed');
    assert.is(pending.metadata.generation, 1);
    const avail = getCondition(pending.status.conditions, 'Available')!;
    assert.equal([avail.status, avail.reason, avail.message], ['False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.']);
    assert.equal([progressing(pending)!.status, progressing(pending)!.reason], ['True', 'ReplicaSetUpdated']);
    assert.equal(await events(store, 'ScalingReplicaSet'), [`Scaled up replica set ${name} from 0 to 3`]);

    const done = await completeRollout(store);
    assert.equal(
      { ...done.status, conditions: undefined },
      { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0, conditions: undefined },
    );
    const p = progressing(done)!;
    assert.equal([p.status, p.reason, p.message], ['True', 'NewReplicaSetAvailable', `ReplicaSet "${name}" has successfully progressed.`]);
    assert.equal(getCondition(done.status.conditions, 'Available')!.reason, 'MinimumReplicasAvailable');
    assert.is((await replicaSets(store)).length, 1);
  });
});

test('rolling update: every step within replicas + maxSurge asked for and replicas - maxUnavailable ready', async () => {
  const { store } = await freshStore();
  await withControllers(store, async () => {
    await store.create(deployment({ replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
    const v1 = await completeRollout(store, 'first rollout');
    const oldName = rsFor(v1.spec.template);

    const bounds = await watchBounds(store, 5, 3);
    const updated = await setImage(store, 'git:apps/web@v2');
    const newName = rsFor(updated.spec.template);
    const done = await completeRollout(store, 'rollout to v2');
    bounds.stop();
    assert.equal(bounds.seen.violations, []);
    assert.is(bounds.seen.maxTotal, 5, 'the surge was used');
    assert.ok(bounds.seen.minReady >= 3);

    const rss = await replicaSets(store);
    assert.equal(rss.map((rs) => [rs.metadata.name, rs.spec.replicas, rs.metadata.annotations?.[REVISION]]).sort(),
      [[oldName, 0, '1'], [newName, 4, '2']].sort());
    assert.is(done.metadata.annotations?.[REVISION], '2');
    assert.equal(done.spec, updated.spec, 'the spec is never changed');
    assert.is(done.metadata.generation, 2);
    const scaling = await events(store, 'ScalingReplicaSet');
    assert.ok(scaling.includes(`Scaled up replica set ${newName} from 0 to 1`), scaling.join('\n'));
    assert.ok(scaling.includes(`Scaled down replica set ${oldName} from 4 to 3`), scaling.join('\n'));
    assert.ok(scaling.includes(`Scaled down replica set ${oldName} from 1 to 0`), scaling.join('\n'));
  });
});

test('rolling update with caches lagging behind writes: still within bounds (stale reads end in conflicts, not overshoot)', async () => {
  const { store } = await freshStore();
  await withControllers(store, async () => {
    await store.create(deployment({ replicas: 4, strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 1 } } }));
    await completeRollout(store, 'first rollout');
    const bounds = await watchBounds(store, 5, 3);
    await setImage(store, 'git:apps/web@v2');
    await completeRollout(store, 'rollout to v2');
    bounds.stop();
    assert.equal(bounds.seen.violations, []);
    assert.equal((await replicaSets(store)).map((rs) => rs.spec.replicas).sort(), [0, 4]);
  }, lagging(store, 15));
});

test('a revert to an earlier template reuses its ReplicaSet (same name, next revision, history kept)', async () => {
  const { store } = await freshStore();
  await withControllers(store, async () => {
    const v1 = await store.create(deployment({ replicas: 2 }));
    await completeRollout(store, 'v1');
    await setImage(store, 'git:apps/web@v2');
    await completeRollout(store, 'v2');
    const before = (await replicaSets(store)).map((rs) => rs.metadata.uid);

    await setImage(store, 'git:apps/web@v1');
    const done = await completeRollout(store, 'back to v1');
    const rss = await replicaSets(store);
    assert.equal(rss.map((rs) => rs.metadata.uid), before, 'no new ReplicaSet');
    const first = rss.find((rs) => rs.metadata.name === rsFor(v1.spec.template))!;
    assert.is(first.spec.replicas, 2);
    assert.is(first.metadata.annotations?.[REVISION], '3');
    assert.is(first.metadata.annotations?.['deployment.kubernetes.io/revision-history'], '1');
    assert.is(done.metadata.annotations?.[REVISION], '3');
    assert.is(rss.find((rs) => rs !== first)!.spec.replicas, 0);
  });
});

test('revisionHistoryLimit: old ReplicaSets beyond the limit are deleted once scaled down, oldest revisions first', async () => {
  const { store } = await freshStore();
  await withControllers(store, async () => {
    await store.create(deployment({ replicas: 1, revisionHistoryLimit: 1 }));
    await completeRollout(store, 'v1');
    for (const v of ['v2', 'v3', 'v4']) {
      await setImage(store, `git:apps/web@${v}`);
      await completeRollout(store, v);
    }
    const rss = await until(async () => { const r = await replicaSets(store); return r.length === 2 && r; }, 'history pruned to one old ReplicaSet');
    assert.equal(rss.map((rs) => rs.metadata.annotations?.[REVISION]).sort(), ['3', '4']);
  });
});

test('paused: no rollout (Progressing Unknown, DeploymentPaused), scaling still applies; resuming rolls out', async () => {
  const { store } = await freshStore();
  await withControllers(store, async () => {
    const v1 = await store.create(deployment({ replicas: 2 }));
    await completeRollout(store, 'v1');
    await setTemplate(store, (d) => { d.spec.paused = true; d.spec.template.spec.containers[0].image = 'git:apps/web@v2'; d.spec.replicas = 3; });
    const paused = await until(async () => {
      const d = await getD(store);
      return d.status?.observedGeneration === 2 && progressing(d)?.reason === 'DeploymentPaused' && d.status.replicas === 3 && d;
    }, 'paused and scaled');
    const p = progressing(paused)!;
    assert.equal([p.status, p.message], ['Unknown', 'Deployment is paused']);
    const rss = await replicaSets(store);
    assert.equal(rss.map((rs) => [rs.metadata.name, rs.spec.replicas]), [[rsFor(v1.spec.template), 3]], 'no new ReplicaSet while paused');

    const resumed = await setTemplate(store, (d) => { d.spec.paused = false; });
    const done = await completeRollout(store, 'resumed rollout');
    assert.is(done.metadata.annotations?.[REVISION], '2');
    assert.equal((await replicaSets(store)).map((rs) => [rs.metadata.name, rs.spec.replicas]).sort(),
      [[rsFor(v1.spec.template), 0], [rsFor(resumed.spec.template), 3]].sort());
  });
});

test('progress deadline: no progress for progressDeadlineSeconds → Progressing False ProgressDeadlineExceeded; then recovers', async () => {
  const { store } = await freshStore();
  await withControllers(store, async () => {
    const created = await store.create(deployment({ replicas: 2, progressDeadlineSeconds: 1 }));
    const name = rsFor(created.spec.template);
    // Nothing marks the pods ready: the controller must look again by itself once the deadline has passed.
    const stuck = await until(async () => { const d = await getD(store); return progressing(d)?.status === 'False' && d; }, 'the deadline exceeded', 6000);
    const p = progressing(stuck)!;
    assert.equal([p.reason, p.message], ['ProgressDeadlineExceeded', `ReplicaSet "${name}" has timed out progressing.`]);
    assert.is(getCondition(stuck.status.conditions, 'Available')!.status, 'False');

    const done = await completeRollout(store, 'late success');
    assert.equal(progressing(done)!.status, 'True');
  });
});

test('Recreate: old pods stopped and gone before the new ReplicaSet starts, at full size', async () => {
  const { store } = await freshStore();
  await withControllers(store, async () => {
    const v1 = await store.create(deployment({ replicas: 2, strategy: { type: 'Recreate' } }));
    await completeRollout(store, 'v1');
    // Bound to a node, so that a delete only marks them until "the node" has stopped them.
    for (const pod of await livePods(store)) await store.update({ ...pod, spec: { ...pod.spec, nodeName: 'node-1' } });

    const v2 = await setImage(store, 'git:apps/web@v2');
    const draining = await until(async () => {
      const d = await getD(store);
      const pods = await store.list('Pod');
      return d.status?.observedGeneration === 2 && d.status.replicas === 0 && pods.length === 2 && pods.every((p) => p.metadata.deletionTimestamp) && pods;
    }, 'old pods stopping');
    assert.equal((await replicaSets(store)).map((rs) => [rs.metadata.name, rs.spec.replicas]), [[rsFor(v1.spec.template), 0]], 'no new ReplicaSet while old pods run');

    for (const pod of draining) await store.delete('Pod', 'default', pod.metadata.name, { gracePeriodSeconds: 0 });
    const rs = await until(async () => store.get('ReplicaSet', 'default', rsFor(v2.spec.template)), 'the new ReplicaSet');
    assert.is(rs.spec.replicas, 2);
    await completeRollout(store, 'v2');
    const scaling = await events(store, 'ScalingReplicaSet');
    assert.ok(scaling.includes(`Scaled down replica set ${rsFor(v1.spec.template)} from 2 to 0`), scaling.join('\n'));
    assert.ok(scaling.includes(`Scaled up replica set ${rsFor(v2.spec.template)} from 0 to 2`), scaling.join('\n'));
  });
});

test('scaling a finished Deployment resizes its ReplicaSet and its replica annotations', async () => {
  const { store } = await freshStore();
  await withControllers(store, async () => {
    const created = await store.create(deployment());
    await completeRollout(store);
    await setTemplate(store, (d) => { d.spec.replicas = 5; });
    await completeRollout(store, 'scaled to 5');
    const rs = (await store.get('ReplicaSet', 'default', rsFor(created.spec.template)))!;
    assert.equal([rs.spec.replicas, rs.metadata.annotations?.['deployment.kubernetes.io/desired-replicas'], rs.metadata.annotations?.['deployment.kubernetes.io/max-replicas']], [5, '5', '7']);
    assert.ok((await events(store, 'ScalingReplicaSet')).includes(`Scaled up replica set ${rs.metadata.name} from 3 to 5`));
  });
});

test('an orphan ReplicaSet matching the selector with the same template is adopted and used, not duplicated', async () => {
  const { store } = await freshStore();
  await withControllers(store, async () => {
    const d = deployment({ replicas: 1 });
    const template = structuredClone(d.spec.template);
    template.metadata.labels['pod-template-hash'] = 'manual';
    const orphan = await store.create({
      apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-manual', namespace: 'default', labels: template.metadata.labels },
      spec: { replicas: 1, selector: { matchLabels: template.metadata.labels }, template },
    });
    const created = await store.create(d);
    const done = await completeRollout(store, 'rollout on the adopted ReplicaSet');
    const rss = await replicaSets(store);
    assert.equal(rss.map((rs) => rs.metadata.uid), [orphan.metadata.uid]);
    assert.is(controllerUid(rss[0]), created.metadata.uid);
    assert.is(rss[0].metadata.annotations?.[REVISION], '1');
    assert.is(done.metadata.annotations?.[REVISION], '1');
  });
});

const controllerUid = (o: KubeObject) => o.metadata.ownerReferences?.find((r) => r.controller)?.uid;

test.run();
