// The DaemonSet's pure parts: which nodes run its pod, the pod it builds, the manage and rolling-update steps,
// the status counts and its health.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { daemonPod, daemonTolerations, nodeShouldRunDaemonPod, targetNode } from '../../src/controllers/daemonset-pods.ts';
import { daemonSetActions, daemonSetCounts, rollingBudget, type NodeDaemonPods } from '../../src/controllers/daemonset-plan.ts';
import { daemonSetHealth } from '../../src/health/daemonset.ts';
import { healthContext } from '../../src/health/types.ts';
import { podMatchesNode } from '../../src/model/node-affinity.ts';

const ds = (spec: Record<string, unknown> = {}, tmpl: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'DaemonSet', metadata: { name: 'agent', namespace: 'kube-system', uid: 'ds-1', generation: 2 },
  spec: { selector: { matchLabels: { app: 'agent' } }, template: { metadata: { labels: { app: 'agent' } }, spec: { containers: [{ name: 'a', image: 'x' }], ...tmpl } }, ...spec },
});
const node = (name: string, labels: Record<string, string> = {}, taints: unknown[] = []): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels: { 'kubernetes.io/hostname': name, ...labels } }, spec: { taints } });
const pod = (name: string, hash: string, o: { ready?: boolean; phase?: string; created?: string } = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'kube-system', labels: { app: 'agent', 'controller-revision-hash': hash }, creationTimestamp: o.created ?? '2026-01-01T00:00:00Z' },
  spec: {}, status: { phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] },
});
const run = { shouldRun: true, shouldContinueRunning: true };
const now = new Date('2026-01-01T01:00:00Z');
const names = (ps: KubeObject[]) => ps.map((p) => p.metadata.name).sort();

test('which nodes run the pod: nodeSelector, affinity, taints (NoSchedule keeps a running pod, NoExecute evicts it)', () => {
  const sel = ds({}, { nodeSelector: { disk: 'ssd' } });
  assert.equal(nodeShouldRunDaemonPod(sel, node('a', { disk: 'ssd' })), run);
  assert.equal(nodeShouldRunDaemonPod(sel, node('b')), { shouldRun: false, shouldContinueRunning: false });
  assert.equal(nodeShouldRunDaemonPod(ds(), node('c', {}, [{ key: 'gpu', effect: 'NoSchedule' }])), { shouldRun: false, shouldContinueRunning: true });
  assert.equal(nodeShouldRunDaemonPod(ds(), node('d', {}, [{ key: 'gpu', effect: 'NoExecute' }])), { shouldRun: false, shouldContinueRunning: false });
  assert.equal(nodeShouldRunDaemonPod(ds({}, { tolerations: [{ key: 'gpu', operator: 'Exists' }] }), node('d', {}, [{ key: 'gpu', effect: 'NoExecute' }])), run);
  // The daemon defaults: cordoned, unreachable and pressured nodes still run it.
  for (const key of ['node.kubernetes.io/unschedulable', 'node.kubernetes.io/disk-pressure']) assert.equal(nodeShouldRunDaemonPod(ds(), node('e', {}, [{ key, effect: 'NoSchedule' }])), run, key);
  assert.equal(nodeShouldRunDaemonPod(ds(), node('f', {}, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }])), run);
});

test('the daemon pod: labels, default tolerations once, pinned by matchFields metadata.name', () => {
  const d = ds({}, { tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 5 }], hostNetwork: true });
  const p = daemonPod(d, 'box-2', 'h1', 'agent-xyz12');
  assert.equal(p.metadata.labels, { app: 'agent', 'controller-revision-hash': 'h1', 'pod-template-generation': '2' });
  assert.equal(p.metadata.ownerReferences?.[0].uid, 'ds-1');
  assert.is(p.spec.tolerations.filter((t: any) => t.key === 'node.kubernetes.io/not-ready').length, 1);
  assert.ok(p.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/network-unavailable'), 'host network pods tolerate it');
  assert.is(daemonTolerations({}).length, 6);
  assert.is(targetNode(p), 'box-2');
  assert.ok(podMatchesNode(p, node('box-2')) && !podMatchesNode(p, node('box-1')));
});

test('manage: creates on nodes without, deletes where it should not run, replaces failed, keeps the oldest of two', () => {
  const nodes: NodeDaemonPods[] = [
    { name: 'a', verdict: run, pods: [] },
    { name: 'b', verdict: { shouldRun: false, shouldContinueRunning: false }, pods: [pod('pb', 'h1')] },
    { name: 'c', verdict: run, pods: [pod('pc', 'h1', { phase: 'Failed', ready: false })] },
    { name: 'd', verdict: run, pods: [pod('new', 'h1', { created: '2026-01-01T00:00:09Z' }), pod('old', 'h1')] },
    { name: 'e', verdict: { shouldRun: false, shouldContinueRunning: true }, pods: [pod('pe', 'h1')] },
  ];
  const r = daemonSetActions(ds(), nodes, 'h1', now);
  assert.equal(r.create, ['a']);
  assert.equal(names(r.delete), ['new', 'pb', 'pc']);
  const counts = daemonSetCounts(ds(), nodes, 'h1', now);
  assert.equal(counts, { desiredNumberScheduled: 3, currentNumberScheduled: 2, numberMisscheduled: 2, numberReady: 1, numberAvailable: 1, numberUnavailable: 2, updatedNumberScheduled: 2 });
});

test('rolling update, maxUnavailable: old pods go within the budget; unavailable old ones go at once', () => {
  const three = (hashes: string[], ready: boolean[] = [true, true, true]): NodeDaemonPods[] =>
    hashes.map((h, i) => ({ name: `n${i}`, verdict: run, pods: [pod(`p${i}`, h, { ready: ready[i] })] }));
  assert.equal(names(daemonSetActions(ds(), three(['old', 'old', 'old']), 'new', now).delete), ['p0'], 'default maxUnavailable 1');
  assert.equal(names(daemonSetActions(ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 2 } } }), three(['old', 'old', 'old']), 'new', now).delete), ['p0', 'p1']);
  assert.equal(names(daemonSetActions(ds(), three(['new', 'old', 'old'], [false, true, true]), 'new', now).delete), [], 'a new pod not yet available uses the budget');
  assert.equal(names(daemonSetActions(ds(), three(['new', 'old', 'old'], [false, false, true]), 'new', now).delete), ['p1'], 'unavailable old pods are replaced regardless');
  assert.equal(daemonSetActions(ds({ updateStrategy: { type: 'OnDelete' } }), three(['old', 'old', 'old']), 'new', now), { create: [], delete: [] });
  assert.equal(rollingBudget(ds({ updateStrategy: { rollingUpdate: { maxUnavailable: '50%', maxSurge: 0 } } }), 3), { maxSurge: 0, maxUnavailable: 1 });
  assert.equal(rollingBudget(ds({ updateStrategy: { rollingUpdate: { maxUnavailable: 0, maxSurge: '50%' } } }), 3), { maxSurge: 2, maxUnavailable: 0 });
});

test('rolling update, maxSurge: a new pod starts beside the old, which goes once the new one is available', () => {
  const surge = ds({ updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } } });
  const start: NodeDaemonPods[] = [{ name: 'a', verdict: run, pods: [pod('a1', 'old')] }, { name: 'b', verdict: run, pods: [pod('b1', 'old')] }];
  assert.equal(daemonSetActions(surge, start, 'new', now), { create: ['a'], delete: [] });
  const surged: NodeDaemonPods[] = [{ name: 'a', verdict: run, pods: [pod('a1', 'old'), pod('a2', 'new', { ready: false, created: '2026-01-01T00:00:05Z' })] }, start[1]];
  assert.equal(daemonSetActions(surge, surged, 'new', now), { create: [], delete: [] }, 'the surge budget is taken');
  const ready: NodeDaemonPods[] = [{ name: 'a', verdict: run, pods: [pod('a1', 'old'), pod('a2', 'new', { created: '2026-01-01T00:00:05Z' })] }, start[1]];
  const r = daemonSetActions(surge, ready, 'new', now);
  assert.equal(r.create, ['b']);
  assert.equal(names(r.delete), ['a1']);
});

test('health, as Argo CD: generation, OnDelete, rollout counts', () => {
  const ctx = healthContext([]);
  const s = (status: Record<string, number>, spec = {}) => ({ ...ds(spec), status: { observedGeneration: 2, ...status } });
  assert.is(daemonSetHealth({ ...ds(), status: { observedGeneration: 1 } }, ctx).status, 'Progressing');
  assert.equal(daemonSetHealth(s({ desiredNumberScheduled: 3, updatedNumberScheduled: 1, numberAvailable: 3 }), ctx),
    { status: 'Progressing', message: 'Waiting for daemon set "agent" rollout to finish: 1 out of 3 new pods have been updated...' });
  assert.equal(daemonSetHealth(s({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 2 }), ctx).message,
    'Waiting for daemon set "agent" rollout to finish: 2 of 3 updated pods are available...');
  assert.equal(daemonSetHealth(s({ desiredNumberScheduled: 3, updatedNumberScheduled: 1 }, { updateStrategy: { type: 'OnDelete' } }), ctx),
    { status: 'Healthy', message: 'daemon set 1 out of 3 new pods have been updated' });
  assert.is(daemonSetHealth(s({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 }), ctx).status, 'Healthy');
});


test('the controller over a real store: a pod per node, an orphan on a node adopted instead of doubled, a new node gets its pod', async () => {
  const { openTestStore, tempDir, cleanup } = await import('../node/helpers.ts');
  const { startControllers } = await import('../../src/controllers/manager.ts');
  const store = await openTestStore(await tempDir());
  // All there before the controller starts (as after a restart), so its caches hold them all at its first sync.
  for (const n of ['n1', 'n2']) await store.create(node(n));
  await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'stray', namespace: 'kube-system', labels: { app: 'agent' } }, spec: { nodeName: 'n1', containers: [{ name: 'a', image: 'x' }] } });
  // Ready: an adopted pod of another revision is replaced at once when unavailable, within maxUnavailable when not.
  await store.updateStatus('Pod', 'kube-system', 'stray', { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2026-01-01T00:00:00Z' }] });
  await store.create({ ...ds(), metadata: { name: 'agent', namespace: 'kube-system' } });
  const c = await startControllers({ store, only: ['daemonset'], log: () => {}, queue: { baseDelayMs: 5, maxDelayMs: 50 } });
  const { until } = await import('../support/wait.ts');
  try {
    const pods = await until(async () => { const ps = await store.list('Pod', { namespace: 'kube-system' }); return ps.length === 2 && ps.every((p) => p.metadata.ownerReferences?.length) && ps; }, 'two owned pods');
    assert.ok(pods.some((p) => p.metadata.name === 'stray'), 'the orphan adopted');
    const made = pods.find((p) => p.metadata.name !== 'stray')!;
    assert.is(targetNode(made), 'n2');
    await store.create(node('n3'));
    await until(async () => (await store.list('Pod', { namespace: 'kube-system' })).some((p) => targetNode(p) === 'n3'), 'a pod for the new node');
    const rev = await until(async () => (await store.list('ControllerRevision', { namespace: 'kube-system' }))[0], 'a ControllerRevision');
    assert.is((rev as any).revision, 1);
    const st = await until(async () => { const s = (await store.get('DaemonSet', 'kube-system', 'agent'))?.status; return s?.desiredNumberScheduled === 3 && s.currentNumberScheduled === 3 && s.observedGeneration !== undefined && s; }, 'status of all three pods');
    assert.equal([st.currentNumberScheduled, st.numberReady, st.updatedNumberScheduled], [3, 1, 2], 'the adopted pod is ready, of no revision');
    assert.ok(await store.get('Pod', 'kube-system', 'stray'), 'kept: the new pods are not available yet, so maxUnavailable 1 is used up');
  } finally {
    await c.stop();
    await store.close();
    await cleanup();
  }
});

test.run();
