// The pure decision: node snapshots, scores and the choice of node, with the default profile.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultProfile, registry } from '../../src/scheduler/default-profile.ts';
import { buildProfile, numFeasibleNodesToFind, schedule } from '../../src/scheduler/framework.ts';
import { summarize, withSummary } from '../../src/scheduler/cluster-summary.ts';
import { nodeInfo, nodeInfos, type NodeInfo } from '../../src/scheduler/node-info.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { leastAllocated } from '../../src/scheduler/plugins/least-allocated.ts';
import { selectorSpread, withControllerPods } from '../../src/scheduler/plugins/selector-spread.ts';
import { SchedulerCache } from '../../src/scheduler/cache.ts';
import { node, pod } from './helpers.ts';

const profile = defaultProfile();

test('nodeInfos: sorted by name; terminal and unbound pods hold nothing; pods being deleted still do', () => {
  const infos = nodeInfos([node('b'), node('a')], [
    pod('run', { cpu: '250m', memory: '128Mi', nodeName: 'a' }),
    pod('going', { cpu: '1', nodeName: 'a', deleting: true }),
    pod('done', { cpu: '1', nodeName: 'a', phase: 'Succeeded' }),
    pod('failed', { cpu: '1', nodeName: 'a', phase: 'Failed' }),
    pod('pending', { cpu: '1' }),
  ]);
  assert.equal(infos.map((i) => i.name), ['a', 'b']);
  assert.equal(infos[0].pods.map((p) => p.metadata.name), ['run', 'going']);
  assert.equal(infos[0].requested, { milliCpu: 1250, memory: 128 * 2 ** 20 });
  // Pods without a memory request count kube-scheduler's 200Mi default when scoring, never when fitting.
  assert.equal(infos[0].nonZeroRequested, { milliCpu: 1250, memory: 128 * 2 ** 20 + 200 * 2 ** 20 });
  assert.equal(infos[0].allocatable, { milliCpu: 2000, memory: 4 * 2 ** 30, pods: 110 });
  assert.equal(infos[1].pods, []);
});

test('least allocated: the average free fraction of cpu and memory after placing the pod', () => {
  const p = pod('p', { cpu: '500m', memory: '1Gi' });
  const empty = nodeInfo(node('n', { cpu: '2', memory: '4Gi' }), []);
  // cpu (2000-500)*100/2000 = 75, memory (4-1)*100/4 = 75
  assert.is(leastAllocated.score(p, empty, new Map()), 75);
  const busy = nodeInfo(node('n', { cpu: '2', memory: '4Gi' }), [pod('a', { cpu: '1', memory: '1Gi', nodeName: 'n' })]);
  // cpu 500*100/2000 = 25, memory 2*100/4 = 50
  assert.is(leastAllocated.score(p, busy, new Map()), 37);
  const full = nodeInfo(node('n', { cpu: '1', memory: '1Gi' }), [pod('a', { cpu: '1', memory: '1Gi', nodeName: 'n' })]);
  assert.is(leastAllocated.score(p, full, new Map()), 0);
});

test('spread: fewer pods of the same controller scores higher; other workloads do not count', () => {
  const p = pod('p', { owner: 'rs-1' });
  const infos = [
    nodeInfo(node('a'), [pod('x', { owner: 'rs-1', nodeName: 'a' }), pod('y', { owner: 'rs-1', nodeName: 'a' })]),
    nodeInfo(node('b'), [pod('z', { owner: 'rs-1', nodeName: 'b' }), pod('o', { owner: 'rs-2', nodeName: 'b' })]),
    nodeInfo(node('c'), [pod('q', { owner: 'rs-2', nodeName: 'c' }), pod('g', { owner: 'rs-1', nodeName: 'c', deleting: true })]),
  ];
  const raw = infos.map((i) => selectorSpread.score(p, i, new Map()));
  assert.equal(raw, [2, 1, 0]);
  assert.equal(selectorSpread.normalize!(raw), [0, 50, 100]);
  assert.equal(selectorSpread.normalize!([0, 0]), [100, 100], 'no pods of the workload anywhere: all equal');
});

test('scoreNodes, where a plugin has it, gives each node the score that score gives it', () => {
  const infos = nodeInfos([node('a'), node('b', { cpu: '4' }), node('c')], [
    pod('x', { owner: 'rs-1', nodeName: 'a', cpu: '300m' }), pod('y', { owner: 'rs-1', nodeName: 'a' }), pod('z', { owner: 'rs-2', nodeName: 'c', memory: '1Gi' }),
  ]);
  for (const p of [pod('p', { owner: 'rs-1', cpu: '100m' }), pod('q', { memory: '64Mi' })]) {
    for (const { plugin } of profile.scores.filter(({ plugin: x }) => x.scoreNodes)) {
      assert.equal(plugin.scoreNodes!(p, infos, new Map()), infos.map((i) => plugin.score(p, i, new Map())), `${plugin.name} for ${p.metadata.name}`);
    }
  }
  assert.equal(profile.scores.filter(({ plugin }) => plugin.scoreNodes).map(({ plugin }) => plugin.name), ['NodeResourcesLeastAllocated', 'SelectorSpread']);
  // With the cache's pods by controller (the scheduler's cycles), SelectorSpread reads those instead of each node's.
  const cache = new SchedulerCache();
  for (const n of ['a', 'b', 'c']) cache.setNode(node(n));
  for (const i of infos) for (const p of i.pods) cache.setPod(p);
  const state = withControllerPods(new Map(), (uid) => cache.podsOfController(uid));
  const owned = pod('p', { owner: 'rs-1' });
  assert.equal(selectorSpread.scoreNodes!(owned, cache.snapshot(), state), [2, 0, 0]);
  assert.equal(selectorSpread.scoreNodes!(pod('n', { owner: 'rs-9' }), cache.snapshot(), withControllerPods(new Map(), (uid) => cache.podsOfController(uid))), [0, 0, 0]);
});

test('schedule picks the node with the most room', () => {
  const infos = nodeInfos([node('a'), node('b')], [pod('big', { cpu: '1500m', memory: '3Gi', nodeName: 'a' })]);
  // b: cpu 1900/2000 → 95, memory 3996Mi/4Gi → 97, average 96. The other scores would be the same on every node
  // (no owner to spread, no PreferNoSchedule taint, no constraints or affinity): skipped at PreScore, adding nothing.
  assert.equal(schedule(pod('p', { cpu: '100m', memory: '100Mi' }), infos, profile), { node: 'b', score: 96 });
});

test('PreScore: a score that would be the same on every feasible node is skipped; one that tells nodes apart is not', () => {
  const plain = pod('p');
  const infos = nodeInfos([node('a'), node('b')], []);
  const state = new Map();
  const skipped = profile.scores.filter(({ plugin }) => plugin.preScore?.(plain, infos, state) === 'skip').map(({ plugin }) => plugin.name);
  assert.equal(skipped, ['TaintToleration', 'NodeAffinity', 'PodTopologySpread', 'InterPodAffinity', 'SelectorSpread']);
  const owned = pod('o', { owner: 'rs-1' });
  const soft = nodeInfos([node('a'), { ...node('b'), spec: { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] } }], []);
  // The cycle's state holds what the snapshot's nodes have in common (schedule() puts it there): here, one taint.
  const run = profile.scores.filter(({ plugin }) => plugin.preScore?.(owned, soft, withSummary(new Map(), summarize(soft))) !== 'skip').map(({ plugin }) => plugin.name);
  assert.equal(run, ['TaintToleration', 'NodeResourcesLeastAllocated', 'SelectorSpread']);
  assert.is((schedule(owned, soft, profile) as { node: string }).node, 'a', 'the untainted node wins');
});

test('schedule breaks ties by node name', () => {
  const infos = nodeInfos([node('c'), node('b'), node('a')], []);
  assert.is((schedule(pod('p'), infos, profile) as { node: string }).node, 'a');
});

test('schedule spreads a workload even against a little more room elsewhere', () => {
  const infos = nodeInfos([node('a'), node('b')], [
    pod('w1', { owner: 'rs-1', nodeName: 'a', cpu: '100m', memory: '64Mi' }),
    pod('other', { nodeName: 'b', cpu: '300m', memory: '256Mi' }),
  ]);
  assert.is((schedule(pod('w2', { owner: 'rs-1', cpu: '100m', memory: '64Mi' }), infos, profile) as { node: string }).node, 'b');
});

test('schedule: nothing fits, with each node\'s reason and the Kubernetes message', () => {
  const infos = nodeInfos([
    node('a', { memory: '1Gi' }),
    node('b', { labels: { disk: 'hdd' } }),
    node('c', { ready: false }),
    node('d', { unschedulable: true, ready: false }),
  ], []);
  const r = schedule(pod('p', { memory: '2Gi', nodeSelector: { 'kubernetes.io/hostname': 'a' } }), infos, profile);
  assert.equal(r, {
    reasons: {
      a: ['Insufficient memory'],
      b: ["node(s) didn't match Pod's node affinity/selector"],
      c: ['node(s) were not ready'],
      d: ['node(s) were unschedulable'],
    },
    message: "0/4 nodes are available: 1 Insufficient memory, 1 node(s) didn't match Pod's node affinity/selector, 1 node(s) were not ready, 1 node(s) were unschedulable.",
  });
});

test('PreFilter: a check no node of the snapshot could fail is skipped for the cycle, by what the nodes have in common', () => {
  const skips = (p: KubeObject, nodes: NodeInfo[]) => {
    const state = withSummary(new Map(), summarize(nodes));
    return profile.filters.filter((f) => f.preFilter?.(p, state) === 'skip').map((f) => f.name);
  };
  const plain = pod('p');
  const all = ['NodeUnschedulable', 'NodeReady', 'TaintToleration', 'NodeAffinity', 'PodTopologySpread', 'InterPodAffinity', 'VolumeBinding'];
  assert.equal(skips(plain, nodeInfos([node('a'), node('b')], [])), all);
  const odd = nodeInfos([node('a', { unschedulable: true }), node('b', { ready: false }), { ...node('c'), spec: { taints: [{ key: 'k', effect: 'NoExecute' }] } }], []);
  assert.equal(skips(plain, odd), all.slice(3), 'one cordoned, one not ready, one tainted: each is checked on every node');
  const tolerant = { ...plain, spec: { ...plain.spec, tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' }] } };
  assert.equal(skips(tolerant, odd), ['NodeUnschedulable', ...all.slice(3)], 'a pod that tolerates cordoning is not judged by it');
  // A placed pod with anti-affinity may keep this one away: InterPodAffinity looks.
  // (b has more room, but x's anti-affinity keeps every pod off it.)
  const x = pod('x', { nodeName: 'b' });
  const anti = { ...x, spec: { ...x.spec, affinity: { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ topologyKey: 'kubernetes.io/hostname', labelSelector: {} }] } } } };
  const r = schedule(plain, nodeInfos([node('a'), node('b')], [anti, pod('y', { nodeName: 'a', cpu: '1500m' })]), profile);
  assert.is((r as { node: string }).node, 'a');
  // Skipped or not, the verdicts are the same: the cordoned, unready and tainted nodes are refused.
  assert.equal(schedule(plain, odd, profile), { reasons: { a: ['node(s) were unschedulable'], b: ['node(s) were not ready'], c: ["node(s) had untolerated taint {k: }"] }, message: (schedule(plain, odd, profile) as { message: string }).message });
});

test('schedule with no nodes at all says so as Kubernetes does', () => {
  assert.equal(schedule(pod('p'), [], profile), { reasons: {}, message: 'no nodes available to schedule pods' });
});

test('numFeasibleNodesToFind: every node below 100; then 50% less 1% per 125 nodes, at least 5%, never under 100', () => {
  assert.is(numFeasibleNodesToFind(99), 99);
  assert.is(numFeasibleNodesToFind(100), 100); // 49% of 100 is 49: raised to the minimum
  assert.is(numFeasibleNodesToFind(1000), 420); // 50 - 8 = 42%
  assert.is(numFeasibleNodesToFind(5000), 500); // 50 - 40 = 10%
  assert.is(numFeasibleNodesToFind(10000), 500); // 50 - 80 < 5: 5%
  assert.is(numFeasibleNodesToFind(1000, 100), 1000);
  assert.is(numFeasibleNodesToFind(1000, 1), 100);
});

test('schedule with a sample: stops at numFeasibleNodesToFind nodes from the start given, round the end; unfit nodes are all judged', () => {
  const names = Array.from({ length: 300 }, (_, i) => `n-${String(i).padStart(3, '0')}`);
  const infos = nodeInfos(names.map((n) => node(n)), []);
  const p = pod('p', { cpu: '100m' });
  // 300 nodes: 50 - 2 = 48% of 300 = 144 feasible nodes, from node 250 round to node 93; ties go to the first name.
  const r = schedule(p, infos, profile, new Map(), { start: 250 });
  assert.equal(r, { node: 'n-000', score: (r as { score: number }).score, searched: 144 });
  const r2 = schedule(p, infos, profile, new Map(), { start: 100 });
  assert.is((r2 as { node: string }).node, 'n-100'); // n-000 was not among the nodes searched
  // Nothing fits: every node is looked at, so the reasons (and the message) name all 300.
  const big = schedule(pod('big', { cpu: '3' }), infos, profile, new Map(), { start: 7 });
  assert.is(Object.keys((big as { reasons: object }).reasons).length, 300);
  // A sample of every node (percentageOfNodesToScore 100) searches them all.
  assert.is((schedule(p, infos, profile, new Map(), { start: 5, percentageOfNodesToScore: 100 }) as { searched: number }).searched, 300);
});

test('profiles are built from registered plugins by name; unknown names fail at start', () => {
  const onlyFit = buildProfile(registry, { filter: ['NodeResourcesFit'], score: [] });
  const infos = nodeInfos([node('a', { unschedulable: true })], []);
  assert.equal(schedule(pod('p'), infos, onlyFit), { node: 'a', score: 0 });
  assert.throws(() => buildProfile(registry, { filter: ['NoSuchPlugin'], score: [] }), /no filter plugin named "NoSuchPlugin"/);
  assert.throws(() => buildProfile(registry, { filter: [], score: [{ name: 'NodeReady', weight: 1 }] }), /no score plugin named "NodeReady"/);
});

test.run();
