// VolumeBinding: a pod waits while its claim is missing or unbound with an Immediate class, goes where its bound
// volume's node affinity allows, and with a WaitForFirstConsumer class is placed first and names the node on the claim.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { defaultProfile } from '../../src/scheduler/default-profile.ts';
import { schedule } from '../../src/scheduler/framework.ts';
import { nodeInfo } from '../../src/scheduler/node-info.ts';
import { preBindVolumes, volumeCycleState, type VolumeListers } from '../../src/scheduler/plugins/volume-binding.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { node, pod } from './helpers.ts';

test.after.each(cleanup);

const withClaim = (claimName: string) => {
  const p = pod('p');
  p.spec.volumes = [{ name: 'data', persistentVolumeClaim: { claimName } }];
  return p;
};
const claim = (name: string, extra: Record<string, any> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default', ...extra.metadata }, spec: { storageClassName: extra.cls, ...(extra.volumeName && { volumeName: extra.volumeName }) }, status: { phase: extra.volumeName ? 'Bound' : 'Pending' } });
const cls = (name: string, mode: string): KubeObject => ({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name }, provisioner: 'rancher.io/local-path', volumeBindingMode: mode });
const pinned = (name: string, host: string): KubeObject => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name }, spec: { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [host] }] }] } } } });

const listers = (claims: KubeObject[], volumes: KubeObject[] = [], classes: KubeObject[] = [cls('late', 'WaitForFirstConsumer'), cls('now', 'Immediate')]): VolumeListers => ({
  claim: (_ns, n) => claims.find((c) => c.metadata.name === n), volume: (n) => volumes.find((v) => v.metadata.name === n), classes: () => classes,
});
const nodes = [nodeInfo(node('n1', { labels: { 'kubernetes.io/hostname': 'n1' } }), []), nodeInfo(node('n2', { labels: { 'kubernetes.io/hostname': 'n2' } }), [])];
const place = (p: KubeObject, l: VolumeListers) => {
  const r = schedule(p, nodes, defaultProfile(), volumeCycleState(l));
  return 'node' in r ? r.node : r.message;
};

test('missing, Immediate-unbound and being-deleted claims keep the pod Pending with Kubernetes\' reasons', () => {
  assert.is(place(withClaim('nope'), listers([])), '0/2 nodes are available: 2 persistentvolumeclaim "nope" not found.');
  assert.is(place(withClaim('c'), listers([claim('c', { cls: 'now' })])), '0/2 nodes are available: 2 pod has unbound immediate PersistentVolumeClaims.');
  assert.is(place(withClaim('c'), listers([claim('c', { cls: 'now', metadata: { deletionTimestamp: '2026-01-01T00:00:00Z' } })])), '0/2 nodes are available: 2 persistentvolumeclaim "c" is being deleted.');
});

test('a bound claim\'s volume decides the node by its affinity; a WaitForFirstConsumer claim lets the pod go anywhere', () => {
  assert.is(place(withClaim('c'), listers([claim('c', { volumeName: 'pv' })], [pinned('pv', 'n2')])), 'n2');
  assert.is(place(withClaim('c'), listers([claim('c', { cls: 'late' })])), 'n1');
  // Without the listers (plan's pure use), claims are not looked at.
  assert.ok('node' in schedule(withClaim('nope'), nodes, defaultProfile()));
});

test('PreBind names the chosen node on each unbound WaitForFirstConsumer claim, once', async () => {
  const { store } = await freshStore();
  const late = await store.create(claim('c', { cls: 'late' }));
  const bound = await store.create(claim('b', { volumeName: 'pv' }));
  const p = withClaim('c');
  p.spec.volumes.push({ name: 'b', persistentVolumeClaim: { claimName: 'b' } });
  await preBindVolumes(store, p, 'n1', listers([late, bound]));
  assert.is((await store.get('PersistentVolumeClaim', 'default', 'c'))!.metadata.annotations?.['volume.kubernetes.io/selected-node'], 'n1');
  assert.is((await store.get('PersistentVolumeClaim', 'default', 'b'))!.metadata.annotations, undefined);
});

test.run();
