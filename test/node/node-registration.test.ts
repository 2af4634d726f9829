import { test } from 'uvu';
import * as assert from 'uvu/assert';
import os from 'node:os';
import { heartbeat, markNodeNotReady, nodeCapacity, registerNode } from '../../src/node/node-registration.ts';
import { PodIps } from '../../src/node/pod-ips.ts';
import { cleanup, openTestStore, tempDir } from './helpers.ts';

test.after.each(cleanup);

const at = (s: string) => () => new Date(s);

test('registration: labels, capacity in Kubernetes units, addresses, nodeInfo, Ready', async () => {
  const store = await openTestStore(await tempDir());
  const node = await registerNode({ store, nodeName: 'node-a', hostIP: '127.0.0.1', capacity: { cpu: '2500m', memory: '8Gi', pods: 20 }, labels: { zone: 'a' }, now: at('2024-05-01T10:00:00.400Z') });
  assert.equal(node.metadata.labels, { 'kubernetes.io/hostname': 'node-a', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch,
    'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': process.arch === 'x64' ? 'amd64' : process.arch, zone: 'a' });
  assert.equal(node.status.capacity, { cpu: '2500m', memory: '8388608Ki', pods: '20' });
  assert.equal(node.status.allocatable, node.status.capacity);
  assert.equal(node.status.addresses, [{ type: 'InternalIP', address: '127.0.0.1' }, { type: 'Hostname', address: 'node-a' }]);
  assert.match(node.status.nodeInfo.kubeletVersion, /^v1\.\d+\.\d+-convergit$/);
  assert.is(node.status.nodeInfo.containerRuntimeVersion, 'process://');
  const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal(ready, { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: '2024-05-01T10:00:00Z', lastTransitionTime: '2024-05-01T10:00:00Z' });
  assert.equal(nodeCapacity(), { cpu: String(os.cpus().length), memory: `${Math.floor(os.totalmem() / 1024)}Ki`, pods: '110' }, 'defaults: the host');
});

test('pod CIDRs: distinct per node, also when registering at once, and kept across restarts', async () => {
  const store = await openTestStore(await tempDir());
  const now = at('2024-05-01T10:00:00Z');
  const [a, b] = await Promise.all(['node-a', 'node-b'].map((nodeName) => registerNode({ store, nodeName, hostIP: '127.0.0.1', now })));
  assert.equal([a.spec.podCIDR, b.spec.podCIDR].sort(), ['127.1.0.0/24', '127.1.1.0/24']);
  assert.equal(a.spec.podCIDRs, [a.spec.podCIDR]);
  await store.delete('Node', undefined, 'node-a');
  const c = await registerNode({ store, nodeName: 'node-c', hostIP: '127.0.0.1', now });
  assert.is(c.spec.podCIDR, a.spec.podCIDR, 'the first free one');
  const again = await registerNode({ store, nodeName: 'node-b', hostIP: '127.0.0.1', now });
  assert.is(again.spec.podCIDR, b.spec.podCIDR, 'kept');
});

test('own addresses: each node\'s InternalIP is the first of its podCIDR, in the cluster CIDR given', async () => {
  const store = await openTestStore(await tempDir());
  const now = at('2024-05-01T10:00:00Z');
  const a = await registerNode({ store, nodeName: 'a', hostIP: '127.0.0.1', now, ownAddress: true, clusterCIDR: '127.128.0.0/16' });
  const b = await registerNode({ store, nodeName: 'b', hostIP: '127.0.0.1', now, ownAddress: true, clusterCIDR: '127.128.0.0/16' });
  assert.equal([a, b].map((n) => [n.spec.podCIDR, n.status.addresses[0]]), [
    ['127.128.0.0/24', { type: 'InternalIP', address: '127.128.0.1' }],
    ['127.128.1.0/24', { type: 'InternalIP', address: '127.128.1.1' }],
  ]);
});

test('pod CIDRs beyond 127.1.0.0/16: the 257th node takes 127.3.0.0/24, leaving the Services\' 127.2.0.0/16 alone', async () => {
  const store = await openTestStore(await tempDir());
  const now = at('2024-05-01T10:00:00Z');
  for (let i = 0; i < 256; i++) await registerNode({ store, nodeName: `n-${i}`, hostIP: '127.0.0.1', now });
  const last = await store.get('Node', undefined, 'n-255');
  assert.is(last!.spec.podCIDR, '127.1.255.0/24');
  const next = await registerNode({ store, nodeName: 'n-256', hostIP: '127.0.0.1', now });
  assert.is(next.spec.podCIDR, '127.3.0.0/24');
});

test('a node\'s kept pod CIDR: kept when it is one of the range\'s blocks (its own or the scale blocks), else replaced', async () => {
  const store = await openTestStore(await tempDir());
  const now = at('2024-05-01T10:00:00Z');
  const given = async (podCIDR: string, clusterCIDR?: string) => {
    const n = (await store.get('Node', undefined, 'n'))!;
    await store.update({ ...n, spec: { ...n.spec, podCIDR, podCIDRs: [podCIDR] } });
    return (await registerNode({ store, nodeName: 'n', hostIP: '127.0.0.1', now, clusterCIDR })).spec.podCIDR;
  };
  await registerNode({ store, nodeName: 'n', hostIP: '127.0.0.1', now });
  assert.is(await given('127.1.7.0/24'), '127.1.7.0/24');
  assert.is(await given('127.3.4.0/24'), '127.3.4.0/24', 'a scale block');
  assert.is(await given('127.127.255.0/24'), '127.127.255.0/24', 'the last');
  for (const other of ['127.2.0.0/24', '127.128.0.0/24', '10.244.0.0/24', '127.1.7.5/24', '127.1.0.0/23', 'garbage']) {
    assert.is(await given(other), '127.1.0.0/24', `${other}: replaced by the first free block`);
  }
  assert.is(await given('127.3.4.0/24', '10.244.0.0/16'), '10.244.0.0/24', 'another range has no scale blocks');
  assert.is(await given('10.244.15.0/24', '10.244.0.0/16'), '10.244.15.0/24');
  assert.is(await given('10.245.0.0/24', '10.244.0.0/16'), '10.244.0.0/24', 'outside it');
});

test('heartbeat renews lastHeartbeatTime only; stopping marks Ready False', async () => {
  const store = await openTestStore(await tempDir());
  await registerNode({ store, nodeName: 'n', hostIP: '127.0.0.1', now: at('2024-05-01T10:00:00Z') });
  await heartbeat(store, 'n', new Date('2024-05-01T10:00:10Z'));
  let ready = (await store.get('Node', undefined, 'n'))!.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal([ready.lastHeartbeatTime, ready.lastTransitionTime], ['2024-05-01T10:00:10Z', '2024-05-01T10:00:00Z']);
  await markNodeNotReady(store, 'n', new Date('2024-05-01T10:00:20Z'));
  ready = (await store.get('Node', undefined, 'n'))!.status.conditions.find((c: any) => c.type === 'Ready');
  assert.equal([ready.status, ready.reason, ready.message, ready.lastTransitionTime], ['False', 'KubeletNotReady', 'kubelet stopped', '2024-05-01T10:00:20Z']);
});

test('pod IPs: one per pod, reserved ones kept, a released one reused last', () => {
  const ips = new PodIps('127.1.3.0/24');
  assert.ok(ips.reserve('old', '127.1.3.1'));
  assert.not.ok(ips.reserve('other', '127.1.3.1'), 'taken');
  assert.not.ok(ips.reserve('x', '10.0.0.1'), 'outside the CIDR');
  assert.is(ips.allocate('old', '127.1.3.9'), '127.1.3.1', 'a pod keeps its address');
  assert.is(ips.allocate('new', '127.1.3.1'), '127.1.3.2', 'a taken preferred address is not given twice');
  assert.is(ips.allocate('pref', '127.1.3.50'), '127.1.3.50');
  ips.release('new');
  assert.is(ips.ipOf('new'), undefined);
  assert.is(ips.allocate('next'), '127.1.3.3');
});

test.run();
