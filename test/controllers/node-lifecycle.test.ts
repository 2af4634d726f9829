// The node lifecycle controller's decisions: taints from conditions and cordon, default tolerations, eviction time.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { desiredTaints, evictionTime } from '../../src/controllers/node-lifecycle-taints.ts';
import { withDefaultTolerationSeconds, defaultTolerationSecondsAdmission } from '../../src/model/default-tolerations.ts';
import type { KubeObject } from '../../src/model/object.ts';

const node = (ready: string, spec: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec, status: { conditions: [{ type: 'Ready', status: ready }] } });
const T = '2026-01-01T00:00:00Z';

test('taints follow the Ready condition and the cordon; other taints and timeAdded are kept', () => {
  assert.equal(desiredTaints(node('True'), T), []);
  assert.equal(desiredTaints(node('Unknown', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] }), T), [
    { key: 'gpu', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' },
    { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: T },
  ]);
  const earlier = '2025-12-31T23:59:00Z';
  assert.equal(desiredTaints(node('False', { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: earlier }] }), T)[1],
    { key: 'node.kubernetes.io/not-ready', effect: 'NoExecute', timeAdded: earlier });
  assert.equal(desiredTaints(node('True', { unschedulable: true, taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] }), T),
    [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }], 'back to Ready: the unreachable taint goes');
});

test('eviction at timeAdded + the shortest seconds of the matching tolerations', () => {
  const seconds = { notReady: 300, unreachable: 30 };
  const added = Date.parse(T);
  const unreachable = [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' as const, timeAdded: T }];
  assert.is(evictionTime(withDefaultTolerationSeconds([], seconds), unreachable, added + 1000), added + 30_000);
  assert.is(evictionTime([], unreachable, added + 1000), added + 1000, 'not tolerated: now');
  assert.is(evictionTime([{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }], unreachable, added), undefined, 'forever');
  assert.is(evictionTime([{ operator: 'Exists', tolerationSeconds: 5 }, { key: 'node.kubernetes.io/unreachable', operator: 'Exists', tolerationSeconds: 9 }], unreachable, added), added + 5000);
  assert.is(evictionTime([], [{ key: 'x', effect: 'NoSchedule' }], added), undefined, 'NoSchedule never evicts');
});

test('the controller over a real store: silent nodes go Unknown and tainted, their pods are evicted after their admitted tolerationSeconds', async () => {
  const { tempDir, cleanup } = await import('../node/helpers.ts');
  const { openStore } = await import('../../src/store/lowdb-store.ts');
  const { startControllers } = await import('../../src/controllers/manager.ts');
  const { until } = await import('../support/wait.ts');
  const store = await openStore(await tempDir(), { flushDelay: 5, admit: [defaultTolerationSecondsAdmission({ notReady: 300, unreachable: 1 })] });
  const c = await startControllers({ store, log: () => {}, only: ['node-lifecycle'], queue: { baseDelayMs: 5, maxDelayMs: 50 },
    nodeLifecycle: { gracePeriodMs: 300 } });
  let renewing: NodeJS.Timeout | undefined;
  try {
    await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'silent' }, spec: {} });
    await store.updateStatus('Node', undefined, 'silent', { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: T }] });
    await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'blank' }, spec: {} });
    // Its status as old as silent's, but its Lease renewed: heard from, as the kubelet's heartbeats are now.
    await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'leased' }, spec: {} });
    await store.updateStatus('Node', undefined, 'leased', { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: T }] });
    const renew = async () => {
      const spec = { holderIdentity: 'leased', leaseDurationSeconds: 40, renewTime: new Date().toISOString().replace('Z', '000Z') };
      const l = await store.get('Lease', 'kube-node-lease', 'leased');
      await (l ? store.update({ ...l, spec }) : store.create({ apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'leased', namespace: 'kube-node-lease' }, spec }));
    };
    await renew();
    renewing = setInterval(() => void renew().catch(() => {}), 50);
    const pod = (name: string, tolerations?: unknown[]) => store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
      spec: { nodeName: 'silent', containers: [{ name: 'c', image: 'x' }], ...(tolerations && { tolerations }) } });
    await pod('plain');
    assert.ok((await store.get('Pod', 'default', 'plain'))?.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.tolerationSeconds === 1), 'admitted');
    await pod('forever', [{ key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' }]);
    const n = await until(async () => { const n = await store.get('Node', undefined, 'silent'); return n?.spec?.taints?.length === 2 && n; }, 'silent tainted');
    assert.equal(n.status.conditions[0], { ...n.status.conditions[0], status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
    const evicted = await until(async () => { const p = await store.get('Pod', 'default', 'plain'); return p?.metadata.deletionTimestamp ? p : undefined; }, 'plain evicted after its 1 s default toleration');
    assert.ok(evicted.status.conditions.some((x: any) => x.type === 'DisruptionTarget' && x.reason === 'DeletionByTaintManager'));
    assert.is((await store.get('Pod', 'default', 'forever'))?.metadata.deletionTimestamp, undefined);
    const blank = await until(async () => (await store.get('Node', undefined, 'blank'))?.status?.conditions?.[0], 'blank gets a Ready condition');
    assert.equal([blank.status, blank.reason], ['Unknown', 'NodeStatusNeverUpdated']);
    const leased = (await store.get('Node', undefined, 'leased'))!;
    assert.equal([leased.status.conditions[0].status, leased.spec.taints], ['True', undefined], 'a renewed Lease keeps the node Ready');
    clearInterval(renewing);
    const lapsed = await until(async () => { const n = await store.get('Node', undefined, 'leased'); return n?.spec?.taints?.length === 2 && n; }, 'leased tainted once its Lease lapses');
    assert.is(lapsed.status.conditions[0].status, 'Unknown');
  } finally {
    clearInterval(renewing);
    await c.stop();
    await store.close();
    await cleanup();
  }
});

test('a NoExecute taint without timeAdded (written by hand or from git) evicts after the toleration seconds from when it was first seen', async () => {
  const { tempDir, cleanup } = await import('../node/helpers.ts');
  const { openStore } = await import('../../src/store/lowdb-store.ts');
  const { startControllers } = await import('../../src/controllers/manager.ts');
  const { until } = await import('../support/wait.ts');
  const store = await openStore(await tempDir(), { flushDelay: 5 });
  const c = await startControllers({ store, log: () => {}, only: ['node-lifecycle'], queue: { baseDelayMs: 5, maxDelayMs: 50 }, nodeLifecycle: { gracePeriodMs: 600_000 } });
  try {
    await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'kept' }, spec: { taints: [{ key: 'maintenance', effect: 'NoExecute' }] } });
    await store.updateStatus('Node', undefined, 'kept', { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', lastHeartbeatTime: new Date().toISOString() }] });
    const pod = (name: string, toleration: Record<string, unknown>) => store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
      spec: { nodeName: 'kept', containers: [{ name: 'c', image: 'x' }], tolerations: [{ key: 'maintenance', operator: 'Exists', effect: 'NoExecute', ...toleration }] } });
    const t0 = Date.now();
    await pod('brief', { tolerationSeconds: 1 });
    await pod('forever', {});
    await until(async () => (await store.get('Pod', 'default', 'brief'))?.metadata.deletionTimestamp, 'the pod tolerating it 1 s evicted', 10_000);
    assert.ok(Date.now() - t0 >= 900, 'not before its second');
    assert.is((await store.get('Pod', 'default', 'forever'))?.metadata.deletionTimestamp, undefined);
  } finally {
    await c.stop();
    await store.close();
    await cleanup();
  }
});

test('a pod queues its node only when the node is tainted NoExecute: the taint\'s own write syncs the node and all its pods', async () => {
  const { contextFor } = await import('./helpers.ts');
  const { freshStore, cleanup } = await import('../store/helpers.ts');
  const { nodeLifecycleController } = await import('../../src/controllers/node-lifecycle.ts');
  const { store } = await freshStore();
  const ctx = await contextFor(store, ['Node', 'Pod', 'Lease']);
  try {
    const queued: string[] = [];
    nodeLifecycleController().watch!(ctx, (key) => { queued.push(key); });
    await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'plain' }, spec: { taints: [{ key: 'gpu', effect: 'NoSchedule' }] } });
    await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'gone' }, spec: { taints: [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }] } });
    queued.length = 0;
    const pod = (name: string, nodeName?: string) => store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { ...(nodeName && { nodeName }), containers: [{ name: 'c', image: 'x' }] } });
    await pod('a', 'plain');
    await pod('b');
    await pod('c', 'unknown-node');
    assert.equal(queued, [], 'untainted, no node, a node not (yet) known');
    await pod('d', 'gone');
    assert.equal(queued, ['/gone']);
    const plain = (await store.get('Node', undefined, 'plain'))!;
    await store.update({ ...plain, spec: { taints: [{ key: 'node.kubernetes.io/not-ready', effect: 'NoExecute' }] } });
    assert.equal(queued, ['/gone', '/plain'], 'the taint syncs the node (then all of its pods)');
  } finally {
    ctx.stop();
    await cleanup();
  }
});

test.run();
