// Which changes wake unschedulable pods: scheduling-relevant ones only, never a node's heartbeat.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { nodeSchedulingChanged, podFinished, podSpecChanged } from '../../src/scheduler/cluster-events.ts';
import { node, pod } from './helpers.ts';

test('node changes that matter, and a heartbeat that does not', () => {
  const n = node('a');
  const heartbeat = structuredClone(n);
  heartbeat.status.conditions[0].lastHeartbeatTime = '2024-05-01T10:00:10Z';
  assert.not.ok(nodeSchedulingChanged(n, heartbeat), 'heartbeat');
  assert.ok(nodeSchedulingChanged(n, node('a', { memory: '8Gi' })), 'allocatable');
  assert.ok(nodeSchedulingChanged(n, node('a', { labels: { disk: 'ssd' } })), 'labels');
  assert.ok(nodeSchedulingChanged(n, node('a', { ready: false })), 'Ready flipped');
  assert.ok(nodeSchedulingChanged(n, node('a', { unschedulable: true })), 'cordoned');
});

test('a bound pod finishing frees room; a pending pod changing its spec may now fit', () => {
  assert.ok(podFinished(pod('p', { nodeName: 'a', phase: 'Running' }), pod('p', { nodeName: 'a', phase: 'Succeeded' })));
  assert.not.ok(podFinished(pod('p', { nodeName: 'a', phase: 'Failed' }), pod('p', { nodeName: 'a', phase: 'Failed' })));
  assert.ok(podSpecChanged(pod('p', { memory: '2Gi' }), pod('p', { memory: '1Gi' })));
  assert.not.ok(podSpecChanged(pod('p'), { ...pod('p'), status: { phase: 'Pending' } }), 'our own status write');
});

test.run();
