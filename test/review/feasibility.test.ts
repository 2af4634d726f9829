// Scheduling feasibility: the end state of a plan placed on the live nodes by the real scheduler.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { schedulingFeasibility } from '../../src/review/feasibility.ts';
import { nodeInfo, withPod } from '../../src/scheduler/node-info.ts';
import { deploymentYaml, liveState, node, objectsOf, planOf, podsOf, replicaSet, running, stored } from './workload-builders.ts';

const Mi = 2 ** 20, Gi = 2 ** 30;

const feasibility = (desired: KubeObject[], objects: KubeObject[], fromGit: KubeObject[], nodesKnown = true) => {
  const live = liveState(objects, fromGit, nodesKnown);
  return schedulingFeasibility(planOf(desired, live), live);
};

test('a base revision has no nodes: not checked, and says why', () => {
  const base = stored(objectsOf(deploymentYaml())[0]);
  const r = feasibility(objectsOf(deploymentYaml({ replicas: 9 })), [base], [base], false);
  assert.is(r.checked, false);
  assert.is(r.nodes, 0);
  assert.match(r.reason!, /base revision/);
  assert.equal(r.unschedulable, []);
});

test('pods that fit nowhere: counted per workload with kube-scheduler\'s message', () => {
  const nodes = [node('n1', { memory: '1Gi' }), node('n2', { memory: '1Gi' })];
  const r = feasibility(objectsOf(deploymentYaml({ name: 'api', replicas: 3, memory: '600Mi' })), nodes, []);
  assert.is(r.checked, true);
  assert.is(r.nodes, 2);
  assert.equal(r.unschedulable, [{ kind: 'Deployment', namespace: 'default', name: 'api', pods: 1, of: 3, message: '0/2 nodes are available: 2 Insufficient memory.' }]);
  assert.equal(r.resources.memory, { allocatable: 2 * Gi, requestedBefore: 0, requestedAfter: 1200 * Mi });
  assert.is(r.stalls, undefined);
});

test('requested before and after: pruned pods leave, new pods arrive, pending pods of untouched workloads count for nothing', () => {
  const nodes = [node('n1'), node('n2'), node('n3', { cpu: '4', ready: false })];
  const web = running(deploymentYaml({ name: 'web', replicas: 2, cpu: '500m', memory: '256Mi' }), { nodes: ['n1', 'n2'] });
  const old = running(deploymentYaml({ name: 'old', replicas: 1, cpu: '250m' }), { nodes: ['n1'] });
  const batch = running(deploymentYaml({ name: 'batch', replicas: 1, cpu: '1' })); // Pending: bound nowhere
  const desired = objectsOf([
    deploymentYaml({ name: 'web', replicas: 3, cpu: '500m', memory: '256Mi' }),
    deploymentYaml({ name: 'batch', replicas: 1, cpu: '1' }),
    deploymentYaml({ name: 'api', replicas: 1, cpu: '100m', memory: '64Mi' }),
  ].join('---\n'));
  const r = feasibility(desired, [...nodes, ...web.all, ...old.all, ...batch.all], [web.deployment, old.deployment, batch.deployment]);
  assert.equal(r.unschedulable, []);
  assert.is(r.nodes, 3);
  // Allocatable counts Ready nodes only (n3 is not).
  assert.equal(r.resources.cpu, { allocatable: 4000, requestedBefore: 1250, requestedAfter: 1600 });
  assert.equal(r.resources.memory, { allocatable: 8 * Gi, requestedBefore: 512 * Mi, requestedAfter: 832 * Mi });
  assert.equal(r.resources.pods, { allocatable: 220, requestedBefore: 3, requestedAfter: 4 });
});

test('a pod being deleted still holds its room now, as kube-scheduler counts it, and is gone once the plan has rolled out', () => {
  const nodes = [node('n1')];
  const web = running(deploymentYaml({ name: 'web', replicas: 2, cpu: '500m' }), { nodes: ['n1', 'n1'] });
  const leaving = { ...web.all.find((o) => o.kind === 'Pod')! };
  leaving.metadata = { ...leaving.metadata, name: 'web-leaving', uid: 'uid-leaving', deletionTimestamp: '2026-01-01T00:00:30Z' };
  const r = feasibility(objectsOf(deploymentYaml({ name: 'web', replicas: 2, cpu: '500m' })), [...nodes, ...web.all, leaving], [web.deployment]);
  assert.equal(r.resources.cpu, { allocatable: 2000, requestedBefore: 1500, requestedAfter: 1000 });
});

test('pods left on a NotReady node count neither in requested nor in allocatable: the percentages stay of the same nodes', () => {
  const nodes = [node('n1'), node('gone', { ready: false })];
  const web = running(deploymentYaml({ name: 'web', replicas: 2, cpu: '500m' }), { nodes: ['n1', 'gone'] });
  const r = feasibility(objectsOf(deploymentYaml({ name: 'web', replicas: 2, cpu: '500m' })), [...nodes, ...web.all], [web.deployment]);
  assert.equal(r.resources.cpu, { allocatable: 2000, requestedBefore: 500, requestedAfter: 500 });
});

test('a replacement frees the old pods\' room: the end state fits even on a full cluster', () => {
  const nodes = [node('n1', { cpu: '1' }), node('n2', { cpu: '1' })];
  const web = running(deploymentYaml({ replicas: 2, cpu: '1', strategy: 'Recreate' }), { nodes: ['n1', 'n2'] });
  const r = feasibility(objectsOf(deploymentYaml({ replicas: 2, cpu: '1', strategy: 'Recreate', version: 'v2' })), [...nodes, ...web.all], [web.deployment]);
  assert.equal(r.unschedulable, []);
  assert.is(r.stalls, undefined, 'Recreate stops the old pods first');
  assert.equal(r.resources.cpu, { allocatable: 2000, requestedBefore: 2000, requestedAfter: 2000 });
});

test('RollingUpdate with maxUnavailable 0 on a full cluster: the end state fits, but the first new pod has no room: it stalls', () => {
  const nodes = [node('n1', { cpu: '1' }), node('n2', { cpu: '1' })];
  const web = running(deploymentYaml({ replicas: 2, cpu: '1' }), { nodes: ['n1', 'n2'] });
  // The default 25%/25% of 2 is maxSurge 1, maxUnavailable 0.
  const r = feasibility(objectsOf(deploymentYaml({ replicas: 2, cpu: '1', version: 'v2' })), [...nodes, ...web.all], [web.deployment]);
  assert.equal(r.unschedulable, []);
  assert.equal(r.stalls?.length, 1);
  const [stall] = r.stalls!;
  assert.equal([stall.kind, stall.namespace, stall.name], ['Deployment', 'default', 'web']);
  assert.match(stall.message, /^RollingUpdate with maxUnavailable 0 stops none of the 2 old pods until 1 new pod runs beside them \(maxSurge 1\), and there is no room for it/);
  assert.ok(stall.message.includes(': 0/2 nodes are available: 2 Insufficient cpu. '), stall.message);

  // Allowing one pod down, the rollout can make room itself.
  const down = feasibility(objectsOf(deploymentYaml({ replicas: 2, cpu: '1', version: 'v2', strategy: { maxSurge: 1, maxUnavailable: 1 } })), [...nodes, ...web.all], [web.deployment]);
  assert.is(down.stalls, undefined);
  // With a spare node the surge pod fits.
  const spare = feasibility(objectsOf(deploymentYaml({ replicas: 2, cpu: '1', version: 'v2' })), [...nodes, node('n3', { cpu: '1' }), ...web.all], [web.deployment]);
  assert.is(spare.stalls, undefined);
});

test('RollingUpdate with maxUnavailable 0: the new pods needed before an old one stops, as the controller counts them', () => {
  const rolling = { maxSurge: 2, maxUnavailable: 0 };
  const web = (replicas: number) => running(deploymentYaml({ replicas, cpu: '500m', strategy: rolling }), { nodes: ['n1'] });
  const v2 = (replicas: number) => objectsOf(deploymentYaml({ replicas, cpu: '500m', version: 'v2', strategy: rolling }));
  // Room for one pod of 500m beside four: maxSurge 2 starts two, but one available is enough to stop an old one.
  const four = web(4);
  const roomForOne = [node('n1', { cpu: '2500m' })];
  assert.is(feasibility(v2(4), [...roomForOne, ...four.all], [four.deployment]).stalls, undefined);
  // Shrinking 4 → 2 on a full node: the controller stops two old pods before it starts any new one.
  const full = [node('n1', { cpu: '2' })];
  assert.is(feasibility(v2(2), [...full, ...four.all], [four.deployment]).stalls, undefined);
  // Growing 3 → 5 with room for two: 6 available are needed before an old pod stops, so three new ones must run.
  const three = web(3);
  const grown = feasibility(v2(5), [node('n1', { cpu: '2500m' }), ...three.all], [three.deployment]);
  assert.equal(grown.unschedulable.length, 0, 'the end state fits: the old pods go');
  assert.equal(grown.stalls?.length, 1);
  assert.match(grown.stalls![0].message, /stops none of the 3 old pods until 3 new pods run beside them \(maxSurge 2\), and there is no room for them beside the pods running now: 0\/1 nodes are available: 1 Insufficient cpu\./);
});

test('a rollback\'s pods are new pods too: they must fit where the current ones run', () => {
  const nodes = [node('n1', { memory: '1Gi' })];
  const v1 = objectsOf(deploymentYaml({ replicas: 2, memory: '800Mi', version: 'v1' }))[0];
  const web = running(deploymentYaml({ replicas: 2, memory: '200Mi', version: 'v2' }), { nodes: ['n1'], revision: 2 });
  const old = replicaSet(web.deployment, v1.spec.template, 0, 1);
  const r = feasibility([v1], [...nodes, ...web.all, old], [web.deployment]);
  assert.equal(r.unschedulable, [{ kind: 'Deployment', namespace: 'default', name: 'web', pods: 1, of: 2, message: '0/1 nodes are available: 1 Insufficient memory.' }]);
});

test('scaling down stops pods; pending pods of a touched workload still need a node', () => {
  const nodes = [node('n1', { cpu: '1' })];
  const web = running(deploymentYaml({ replicas: 3, cpu: '400m' }), { nodes: ['n1'], pods: 2 });
  const pending = podsOf(web.rs, 1); // the third pod: no room now
  const r = feasibility(objectsOf(deploymentYaml({ replicas: 4, cpu: '400m' })), [...nodes, ...web.all, ...pending], [web.deployment]);
  // 2 run, 1 waits, 1 more asked for: of the 2 that need a node, neither fits beside 800m.
  assert.equal(r.unschedulable, [{ kind: 'Deployment', namespace: 'default', name: 'web', pods: 2, of: 2, message: '0/1 nodes are available: 1 Insufficient cpu.' }]);
  const down = feasibility(objectsOf(deploymentYaml({ replicas: 1, cpu: '400m' })), [...nodes, ...web.all, ...pending], [web.deployment]);
  assert.equal(down.unschedulable, []);
  assert.equal(down.resources.cpu, { allocatable: 1000, requestedBefore: 800, requestedAfter: 400 });
});

test('withPod: a new NodeInfo with the pod\'s requests added; the given one is unchanged', () => {
  const info = nodeInfo(node('n1'), []);
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', resources: { requests: { cpu: '250m' } } }] } };
  const next = withPod(info, pod);
  assert.equal([next.requested, next.nonZeroRequested, next.pods.length], [{ milliCpu: 250, memory: 0 }, { milliCpu: 250, memory: 200 * Mi }, 1]);
  assert.equal([info.requested, info.pods.length], [{ milliCpu: 0, memory: 0 }, 0]);
});

test.run();
