// NodeAffinity, TaintToleration, InterPodAffinity and PodTopologySpread through the default profile's `schedule`
// (so each sees the whole cluster, as in kube-scheduler), with their FailedScheduling wording, and their scores.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { defaultProfile } from '../../src/scheduler/default-profile.ts';
import { schedule } from '../../src/scheduler/framework.ts';
import { nodeInfos } from '../../src/scheduler/node-info.ts';
import { failedSchedulingMessage } from '../../src/scheduler/reasons.ts';
import { interPodAffinity } from '../../src/scheduler/plugins/inter-pod-affinity.ts';
import { nodeAffinity } from '../../src/scheduler/plugins/node-affinity.ts';
import { taintToleration } from '../../src/scheduler/plugins/taint-toleration.ts';
import { podTopologySpread } from '../../src/scheduler/plugins/pod-topology-spread.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { tolerates } from '../../src/model/taints.ts';
import { node, pod } from './helpers.ts';

const profile = defaultProfile();
const zoned = (name: string, zone: string, extra: Partial<KubeObject['spec']> = {}, labels: Record<string, string> = {}) => {
  const n = node(name, { labels: { 'topology.kubernetes.io/zone': zone, ...labels } });
  return { ...n, spec: { ...n.spec, ...extra } };
};
const withSpec = (p: KubeObject, spec: Record<string, unknown>, labels?: Record<string, string>) =>
  ({ ...p, metadata: { ...p.metadata, ...(labels && { labels }) }, spec: { ...p.spec, ...spec } });
const place = (p: KubeObject, nodes: KubeObject[], bound: KubeObject[] = []) => {
  const r = schedule(p, nodeInfos(nodes, bound), profile);
  return 'node' in r ? r.node : r.message;
};
const three = [zoned('n1', 'a'), zoned('n2', 'a', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] }), zoned('n3', 'b')];

test('tolerations match taints by key, value, operator and effect as Kubernetes does', () => {
  const taint = { key: 'k', value: 'v', effect: 'NoSchedule' as const };
  assert.ok(tolerates({ key: 'k', value: 'v' }, taint));
  assert.ok(tolerates({ key: 'k', operator: 'Exists', effect: 'NoSchedule' }, taint));
  assert.ok(tolerates({ operator: 'Exists' }, taint), 'an empty key with Exists tolerates everything');
  assert.not.ok(tolerates({ key: 'k', value: 'w' }, taint));
  assert.not.ok(tolerates({ key: 'k', operator: 'Exists', effect: 'NoExecute' }, taint));
  assert.not.ok(tolerates({ value: 'v' }, taint), 'an empty key needs Exists');
});

test('taints and node affinity: the reasons counted per node, with the preemption verdict', () => {
  const p = withSpec(pod('p'), { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
    { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['a'] }] },
  ] } } } });
  const r = schedule(withSpec(p, { nodeSelector: { disk: 'ssd' } }), nodeInfos(three, []), profile);
  assert.ok('reasons' in r);
  assert.is(failedSchedulingMessage(3, (r as { reasons: Record<string, string[]> }).reasons),
    "0/3 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}, 2 node(s) didn't match Pod's node affinity/selector. "
    + 'preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling..');
  assert.is(place(p, three), 'n1', 'the untainted node of zone a');
  const tolerant = withSpec(p, { tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] });
  assert.is(place(tolerant, [three[1], three[2]]), 'n2');
  // matchFields metadata.name, as DaemonSet pods are pinned; Gt on an integer label.
  const pinned = withSpec(pod('d'), { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
    { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n3'] }] }] } } } });
  assert.is(place(pinned, three), 'n3');
  const big = withSpec(pod('g'), { affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [
    { matchExpressions: [{ key: 'cores', operator: 'Gt', values: ['8'] }] }] } } } });
  assert.is(place(big, [zoned('s', 'a', {}, { cores: '4' }), zoned('l', 'a', {}, { cores: '16' })]), 'l');
});

test('preferred node affinity and PreferNoSchedule taints score; normalized to 100 for the best', () => {
  const p = withSpec(pod('p'), { affinity: { nodeAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
    { weight: 10, preference: { matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values: ['b'] }] } },
    { weight: 30, preference: { matchExpressions: [{ key: 'disk', operator: 'Exists' }] } },
  ] } } });
  const infos = nodeInfos([zoned('x', 'a'), zoned('y', 'b'), zoned('z', 'b', {}, { disk: 'ssd' })], []);
  assert.equal(nodeAffinity.normalize!(infos.map((i) => nodeAffinity.score(p, i, new Map()))), [0, 25, 100]);
  assert.is(place(p, [zoned('x', 'a'), zoned('y', 'b')]), 'y');
  const soft = [zoned('x', 'a', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] }), zoned('y', 'a')];
  const si = nodeInfos(soft, []);
  assert.equal(taintToleration.normalize!(si.map((i) => taintToleration.score(pod('q'), i, new Map()))), [0, 100]);
  assert.is(place(pod('q'), soft), 'y');
  assert.is(taintToleration.filter(pod('q'), si[0], new Map()).fits, true, 'PreferNoSchedule never filters');
});

const app = (name: string, nodeName?: string, labels = { app: 'db' }) => withSpec(pod(name, { nodeName }), {}, labels);
const antiByZone = { podAntiAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'topology.kubernetes.io/zone' }] } };

test('pod anti-affinity keeps replicas out of a zone that has one; existing pods\' anti-affinity is honoured both ways', () => {
  const nodes = [zoned('n1', 'a'), zoned('n2', 'a'), zoned('n3', 'b')];
  const p = withSpec(app('db-2'), { affinity: antiByZone });
  assert.is(place(p, nodes, [app('db-1', 'n1')]), 'n3');
  const r = schedule(p, nodeInfos(nodes, [app('db-1', 'n1'), app('db-0', 'n3')]), profile);
  assert.is('message' in r && r.message, "0/3 nodes are available: 3 node(s) didn't match pod anti-affinity rules.");
  // An existing pod with the rule keeps a new pod it selects away, though the new pod has no rule of its own.
  const guard = withSpec(app('db-1', 'n1'), { affinity: antiByZone });
  assert.is(place(app('db-3'), nodes, [guard]), 'n3');
  const r2 = schedule(app('db-3'), nodeInfos([zoned('n1', 'a')], [guard]), profile);
  assert.is('message' in r2 && r2.message, "0/1 nodes are available: 1 node(s) didn't satisfy existing pods anti-affinity rules.");
});

test('pod affinity: to the zone of the pods it selects; the first of a self-selecting group may go anywhere', () => {
  const nodes = [zoned('n1', 'a'), zoned('n2', 'b')];
  const near = { podAffinity: { requiredDuringSchedulingIgnoredDuringExecution: [{ labelSelector: { matchLabels: { app: 'cache' } }, topologyKey: 'topology.kubernetes.io/zone' }] } };
  const web = withSpec(app('web', undefined, { app: 'web' }), { affinity: near });
  assert.is(place(web, nodes, [app('c', 'n2', { app: 'cache' })]), 'n2');
  const r = schedule(web, nodeInfos(nodes, []), profile);
  assert.is('message' in r && r.message, "0/2 nodes are available: 2 node(s) didn't match pod affinity rules.");
  const self = withSpec(app('c1', undefined, { app: 'cache' }), { affinity: near });
  assert.is(place(self, nodes), 'n1');
  // Preferred anti-affinity scores the other zone higher; all-equal scores normalize to 0.
  const soft = withSpec(app('db-2'), { affinity: { podAntiAffinity: { preferredDuringSchedulingIgnoredDuringExecution: [
    { weight: 100, podAffinityTerm: { labelSelector: { matchLabels: { app: 'db' } }, topologyKey: 'kubernetes.io/hostname' } }] } } });
  const infos = nodeInfos(nodes, [app('db-1', 'n1')]);
  const state = new Map<string, unknown>([['framework/nodes', infos]]);
  assert.equal(interPodAffinity.normalize!(infos.map((i) => interPodAffinity.score(soft, i, state))), [0, 100]);
});

test('topology spread: maxSkew over zones, minDomains, missing labels, ScheduleAnyway scores', () => {
  const spread = (whenUnsatisfiable: string, extra = {}) => ({ topologySpreadConstraints: [{ maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable, labelSelector: { matchLabels: { app: 'db' } }, ...extra }] });
  const nodes = [zoned('n1', 'a'), zoned('n2', 'a'), zoned('n3', 'b')];
  const p = withSpec(app('db-9'), spread('DoNotSchedule'));
  // a has 1, b has 0: a third in a would make skew 2.
  assert.is(place(p, nodes, [app('db-1', 'n1')]), 'n3');
  const r = schedule(p, nodeInfos(nodes, [app('db-1', 'n1'), app('db-2', 'n2'), app('db-3', 'n3')]), profile);
  assert.ok('node' in r, 'a 2/1 split lets the next go to b');
  const full = schedule(p, nodeInfos(nodes, [app('db-1', 'n1'), app('db-2', 'n3')]).map((i) => i), profile);
  assert.ok('node' in full);
  const blocked = schedule(p, nodeInfos([zoned('n1', 'a'), node('bare'), zoned('n3', 'b', { unschedulable: true })], [app('db-1', 'n1')]), profile);
  assert.is('message' in blocked && blocked.message,
    "0/3 nodes are available: 1 node(s) didn't match pod topology spread constraints, 1 node(s) didn't match pod topology spread constraints (missing required label), 1 node(s) were unschedulable.");
  assert.is(failedSchedulingMessage(3, (blocked as { reasons: Record<string, string[]> }).reasons).split('preemption: ')[1],
    '0/3 nodes are available: 1 No preemption victims found for incoming pod., 2 Preemption is not helpful for scheduling..');
  // minDomains 3 with two zones: the smallest counts as 0, so zone b (0 pods) is fine and zone a (1) is not.
  const min = withSpec(app('db-9'), spread('DoNotSchedule', { minDomains: 3 }));
  const rm = schedule(min, nodeInfos([zoned('n1', 'a'), zoned('n3', 'b')], [app('db-1', 'n1'), app('db-2', 'n3')]), profile);
  assert.is('message' in rm && rm.message, "0/2 nodes are available: 2 node(s) didn't match pod topology spread constraints.");
  // ScheduleAnyway: never filters, prefers the emptier zone.
  const soft = withSpec(app('db-9'), spread('ScheduleAnyway'));
  const infos = nodeInfos(nodes, [app('db-1', 'n1'), app('db-2', 'n2')]);
  const state = new Map<string, unknown>([['framework/nodes', infos]]);
  const scores = podTopologySpread.normalize!(infos.map((i) => podTopologySpread.score(soft, i, state)));
  assert.ok(scores[2] > scores[0] && scores[0] === scores[1], String(scores));
  assert.is(place(soft, nodes, [app('db-1', 'n1'), app('db-2', 'n2')]), 'n3');
});

test.run();
