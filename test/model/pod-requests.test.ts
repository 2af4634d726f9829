// A pod's effective requests as k8s.io/component-helpers' PodRequests computes them: app and sidecar containers
// summed, init containers (with the sidecars started before them) as a maximum, then spec.overhead; used by the
// scheduler's NodeResourcesFit and by plan's "fits on the nodes" check.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { podRequests } from '../../src/model/pod.ts';
import { nodeInfo, nonZeroRequestOf, requestOf } from '../../src/scheduler/node-info.ts';
import { nodeResourcesFit } from '../../src/scheduler/plugins/node-resources-fit.ts';
import { schedulingFeasibility } from '../../src/review/feasibility.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { node } from '../scheduler/helpers.ts';
import { liveState, objectsOf, planOf } from '../review/workload-builders.ts';

const Mi = 2 ** 20;
const c = (cpu?: string, memory?: string, restartPolicy?: string) => ({
  name: `c${Math.random().toString(36).slice(2, 7)}`, image: 'x',
  ...((cpu || memory) && { resources: { requests: { ...(cpu && { cpu }), ...(memory && { memory }) } } }), ...(restartPolicy && { restartPolicy }),
});
const pod = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec });

test('app containers sum; an init container bigger than them all sets the request', () => {
  assert.equal(requestOf(pod({ containers: [c('1', '1Gi'), c('2', '1Gi')] })), { milliCpu: 3000, memory: 2048 * Mi });
  assert.equal(requestOf(pod({ initContainers: [c('4', '512Mi'), c('1', '3Gi')], containers: [c('1', '1Gi'), c('2', '1Gi')] })), { milliCpu: 4000, memory: 3072 * Mi },
    'each resource takes its own maximum');
  assert.equal(requestOf(pod({ initContainers: [c(undefined, undefined)], containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: '500m' } } }] })), { milliCpu: 500, memory: 0 },
    'a limit stands in for a missing request');
});

test('sidecars (restartPolicy Always) add to the app containers and to every init container after them', () => {
  // reqs = 1 + 1 + 3 = 5; init: sidecar 1 → 1; init 2 + sidecars 1 → 3; sidecars 1 + 3 → 4: max(5, 4)
  assert.is(requestOf(pod({ initContainers: [c('1', undefined, 'Always'), c('2'), c('3', undefined, 'Always')], containers: [c('1')] })).milliCpu, 5000);
  // reqs = 1 + 1 = 2; init 10 + sidecar 1 = 11
  assert.is(requestOf(pod({ initContainers: [c('1', undefined, 'Always'), c('10')], containers: [c('1')] })).milliCpu, 11_000);
  // an init container before the sidecar does not count it
  assert.is(requestOf(pod({ initContainers: [c('3'), c('1', undefined, 'Always')], containers: [c('1')] })).milliCpu, 3000);
});

test('overhead is added; the scoring request fills containers without requests with 100m and 200Mi', () => {
  assert.equal(podRequests({ containers: [c('250m', '64Mi')], overhead: { cpu: '250m', memory: '120Mi' } }), { cpu: 0.5, memory: 184 * Mi });
  assert.equal(nonZeroRequestOf(pod({ initContainers: [c()], containers: [c(), c('1')], overhead: { cpu: '10m' } })), { milliCpu: 1110, memory: 400 * Mi });
  assert.equal(requestOf(pod({ containers: [c()] })), { milliCpu: 0, memory: 0 });
});

test('NodeResourcesFit refuses a node too small for an init container; plan reports the workload that fits nowhere', () => {
  const big = pod({ initContainers: [c(undefined, '3Gi')], containers: [c(undefined, '64Mi')] });
  assert.equal(nodeResourcesFit.filter(big, nodeInfo(node('n', { memory: '2Gi' }), []), new Map()), { fits: false, reasons: ['Insufficient memory'] } as never);
  const yaml = `apiVersion: apps/v1
kind: Deployment
metadata: {name: migrate}
spec:
  replicas: 1
  selector: {matchLabels: {app: migrate}}
  template:
    metadata: {labels: {app: migrate}}
    spec:
      initContainers: [{name: schema, image: x, resources: {requests: {memory: 3Gi}}}]
      containers: [{name: app, image: x, resources: {requests: {memory: 64Mi}}}]
`;
  const live = liveState([node('n1', { memory: '2Gi' })], [], true);
  const r = schedulingFeasibility(planOf(objectsOf(yaml), live), live);
  assert.equal(r.unschedulable.map((u) => [u.name, u.message]), [['migrate', '0/1 nodes are available: 1 Insufficient memory.']]);
});

test.run();
