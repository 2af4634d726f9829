// Each filter plugin against one node, table-driven: the verdict and its exact Kubernetes reason strings.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FilterPlugin } from '../../src/scheduler/framework.ts';
import { nodeInfo } from '../../src/scheduler/node-info.ts';
import { nodeReady } from '../../src/scheduler/plugins/node-ready.ts';
import { nodeResourcesFit } from '../../src/scheduler/plugins/node-resources-fit.ts';
import { nodeSelector } from '../../src/scheduler/plugins/node-selector.ts';
import { nodeUnschedulable } from '../../src/scheduler/plugins/node-unschedulable.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { node, pod } from './helpers.ts';

const verdict = (plugin: FilterPlugin, p: KubeObject, n: KubeObject, bound: KubeObject[] = []) => {
  const s = plugin.filter(p, nodeInfo(n, bound), new Map());
  return s.fits ? 'fits' : s.reasons;
};

const cases: [string, FilterPlugin, KubeObject, KubeObject, KubeObject[], string | string[]][] = [
  ['ready node', nodeReady, pod('p'), node('n'), [], 'fits'],
  ['Ready=False', nodeReady, pod('p'), node('n', { ready: false }), [], ['node(s) were not ready']],
  ['no conditions yet', nodeReady, pod('p'), { ...node('n'), status: { allocatable: {} } }, [], ['node(s) were not ready']],
  ['schedulable node', nodeUnschedulable, pod('p'), node('n'), [], 'fits'],
  ['cordoned node', nodeUnschedulable, pod('p'), node('n', { unschedulable: true }), [], ['node(s) were unschedulable']],
  ['no nodeSelector', nodeSelector, pod('p'), node('n'), [], 'fits'],
  ['matching nodeSelector', nodeSelector, pod('p', { nodeSelector: { disk: 'ssd' } }), node('n', { labels: { disk: 'ssd', zone: 'a' } }), [], 'fits'],
  ['other value', nodeSelector, pod('p', { nodeSelector: { disk: 'ssd' } }), node('n', { labels: { disk: 'hdd' } }), [], ["node(s) didn't match Pod's node affinity/selector"]],
  ['label missing', nodeSelector, pod('p', { nodeSelector: { disk: 'ssd', zone: 'a' } }), node('n', { labels: { disk: 'ssd' } }), [], ["node(s) didn't match Pod's node affinity/selector"]],
  ['fits exactly', nodeResourcesFit, pod('p', { cpu: '500m', memory: '1Gi' }), node('n', { cpu: '1', memory: '2Gi' }), [pod('a', { cpu: '500m', memory: '1Gi', nodeName: 'n' })], 'fits'],
  ['one millicore too many', nodeResourcesFit, pod('p', { cpu: '501m' }), node('n', { cpu: '1' }), [pod('a', { cpu: '0.5', nodeName: 'n' })], ['Insufficient cpu']],
  ['memory in bytes on the node', nodeResourcesFit, pod('p', { memory: '129Mi' }), node('n', { memory: String(128 * 2 ** 20) }), [], ['Insufficient memory']],
  ['cpu and memory both short', nodeResourcesFit, pod('p', { cpu: '3', memory: '8Gi' }), node('n'), [], ['Insufficient cpu', 'Insufficient memory']],
  ['pods being deleted still hold room', nodeResourcesFit, pod('p', { memory: '3Gi' }), node('n'), [pod('a', { memory: '2Gi', nodeName: 'n', deleting: true })], ['Insufficient memory']],
  ['pod count full', nodeResourcesFit, pod('p'), node('n', { pods: '2' }), [pod('a', { nodeName: 'n' }), pod('b', { nodeName: 'n' })], ['Too many pods']],
  ['no requests fit an overcommitted node', nodeResourcesFit, pod('p'), node('n', { cpu: '1' }), [pod('a', { cpu: '2', nodeName: 'n' })], 'fits'],
  ['no allocatable at all', nodeResourcesFit, pod('p', { cpu: '1m' }), { ...node('n'), status: {} }, [], ['Too many pods', 'Insufficient cpu']],
];

for (const [name, plugin, p, n, bound, want] of cases) {
  test(`${plugin.name}: ${name}`, () => {
    assert.equal(verdict(plugin, p, n, bound), want);
  });
}

test('NodeResourcesFit: a limit without a request counts as the request', () => {
  const p = pod('p');
  p.spec.containers[0].resources = { limits: { memory: '3Gi' } };
  assert.equal(verdict(nodeResourcesFit, p, node('n', { memory: '2Gi' })), ['Insufficient memory']);
});

test('NodeResourcesFit: requests add up over containers', () => {
  const p = pod('p', { cpu: '600m' });
  p.spec.containers.push({ name: 'sidecar', image: 'x', resources: { requests: { cpu: '500m' } } });
  assert.equal(verdict(nodeResourcesFit, p, node('n', { cpu: '1' })), ['Insufficient cpu']);
});

test.run();
