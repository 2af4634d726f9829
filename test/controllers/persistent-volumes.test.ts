// The PersistentVolume binder and the local-path provisioner over a real store: dynamic provisioning (Immediate,
// and WaitForFirstConsumer once the scheduler names a node), static volumes bound by size and selector, the
// claim and volume phases and events, and reclaiming: Delete removes the folder, Retain keeps it Released.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startControllers, type RunningControllers } from '../../src/controllers/manager.ts';
import { LOCAL_PATH_CLASS } from '../../src/controllers/local-path-provisioner.ts';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';
import { cleanup, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';

let store: Store, controllers: RunningControllers, storageDir: string;

test.before.each(async () => {
  store = (await freshStore()).store;
  storageDir = mkdtempSync(path.join(tmpdir(), 'convergit-storage-'));
  await store.create(structuredClone(LOCAL_PATH_CLASS) as KubeObject);
  await store.create({ apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'now' }, provisioner: 'rancher.io/local-path', reclaimPolicy: 'Retain', volumeBindingMode: 'Immediate' } as KubeObject);
  controllers = await startControllers({ store, only: ['persistentvolume-binder', 'local-path-provisioner'], localPath: { storageDir }, log: () => {} });
});
test.after.each(async () => {
  await controllers.stop();
  await cleanup();
  rmSync(storageDir, { recursive: true, force: true });
});

const claim = (name: string, spec: Record<string, any> = {}): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name, namespace: 'default' },
  spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } }, volumeMode: 'Filesystem', ...spec },
});
const volume = (name: string, size: string, labels: Record<string, string> = {}, policy = 'Retain'): KubeObject => ({
  apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name, labels },
  spec: { capacity: { storage: size }, accessModes: ['ReadWriteOnce'], volumeMode: 'Filesystem', storageClassName: 'manual', persistentVolumeReclaimPolicy: policy, hostPath: { path: `/srv/${name}` } },
});
const get = (kind: string, name: string) => store.get(kind, kind === 'PersistentVolume' ? undefined : 'default', name);
const phase = (kind: string, name: string, want: string) => until(async () => { const o = await get(kind, name); return o?.status?.phase === want && o; }, `${kind} ${name} ${want}`);
const events = async (reason: string) => (await store.list('Event')).filter((e) => e.reason === reason).map((e) => `${(e.involvedObject as any).name}: ${e.message}`);

test('Immediate: the claim is provisioned at once as a folder under the storage folder, bound both ways, and Delete removes it with the claim', async () => {
  await store.create(claim('now-rwo', { storageClassName: 'now' }));
  const pvc = await phase('PersistentVolumeClaim', 'now-rwo', 'Bound');
  const pv = await phase('PersistentVolume', pvc.spec.volumeName, 'Bound');
  assert.is(pv.metadata.name, `pvc-${pvc.metadata.uid}`);
  assert.is(pv.spec.claimRef.uid, pvc.metadata.uid);
  assert.equal(pvc.status.capacity, { storage: '1Gi' });
  assert.equal(pvc.status.accessModes, ['ReadWriteOnce']);
  assert.is(pvc.metadata.annotations?.['volume.kubernetes.io/storage-provisioner'], 'rancher.io/local-path');
  assert.ok(pv.spec.hostPath.path.startsWith(`${storageDir}/pvc-`) && existsSync(pv.spec.hostPath.path));
  assert.equal(await events('ProvisioningSucceeded'), [`now-rwo: Successfully provisioned volume ${pv.metadata.name}`]);

  // The class says Retain: the claim goes, the volume stays Released with its data.
  writeFileSync(path.join(pv.spec.hostPath.path, 'keep'), 'me');
  await store.delete('PersistentVolumeClaim', 'default', 'now-rwo');
  await phase('PersistentVolume', pv.metadata.name, 'Released');
  assert.ok(existsSync(path.join(pv.spec.hostPath.path, 'keep')));
});

test('WaitForFirstConsumer (the default local-path class): Pending until the scheduler names a node, then provisioned there; Delete reclaims once no pod mounts it', async () => {
  await store.create(claim('data')); // no class: the default
  await until(async () => (await events('WaitForFirstConsumer')).length > 0, 'the WaitForFirstConsumer event');
  const waiting = await phase('PersistentVolumeClaim', 'data', 'Pending');
  assert.equal(await store.list('PersistentVolume'), []);
  await store.update({ ...waiting, metadata: { ...waiting.metadata, annotations: { ...waiting.metadata.annotations, 'volume.kubernetes.io/selected-node': 'node-1' } } });
  const pvc = await phase('PersistentVolumeClaim', 'data', 'Bound');
  const pv = (await get('PersistentVolume', pvc.spec.volumeName))!;
  assert.is(pv.spec.storageClassName, 'local-path');
  assert.is(pv.spec.persistentVolumeReclaimPolicy, 'Delete');
  assert.equal(pv.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values, ['node-1']);
  const folder = pv.spec.hostPath.path;
  assert.ok(existsSync(folder));
  // Deleted while a pod still mounts it: the volume and its data wait for the pod to go.
  const user = await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db', namespace: 'default' }, spec: { volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }], containers: [{ name: 'c', image: 'x' }] } });
  await store.delete('PersistentVolumeClaim', 'default', 'data');
  await until(async () => (await store.list('PersistentVolumeClaim')).length === 0, 'the claim to go');
  // The binder works its queue in order: once a claim made after the deletion is handled, so was the volume.
  await store.create(claim('marker', { storageClassName: '' }));
  await until(async () => (await events('FailedBinding')).some((e) => e.startsWith('marker:')), 'the binder to handle what came after the deletion');
  assert.is((await get('PersistentVolume', pv.metadata.name))?.status?.phase, 'Bound');
  assert.ok(existsSync(folder));
  await store.delete('Pod', 'default', user.metadata.name);
  await until(async () => !(await get('PersistentVolume', pv.metadata.name)) && !existsSync(folder), 'the volume and its folder to be removed');
});

test('static volumes bind by class, size and selector (the smallest that fits); none fitting waits with the reason; a lost volume makes the claim Lost', async () => {
  await store.create(volume('small', '500Mi'));
  await store.create(volume('gold', '5Gi', { tier: 'gold' }));
  await store.create(volume('plain', '2Gi'));
  await store.create(claim('pick', { storageClassName: 'manual' }));
  await store.create(claim('picky', { storageClassName: 'manual', selector: { matchLabels: { tier: 'gold' } } }));
  assert.is((await phase('PersistentVolumeClaim', 'pick', 'Bound')).spec.volumeName, 'plain');
  assert.is((await phase('PersistentVolumeClaim', 'picky', 'Bound')).spec.volumeName, 'gold');
  assert.is((await phase('PersistentVolume', 'small', 'Available')).spec.claimRef, undefined);

  await store.create(claim('huge', { storageClassName: 'manual', resources: { requests: { storage: '100Gi' } } }));
  await phase('PersistentVolumeClaim', 'huge', 'Pending');
  // No StorageClass object named "manual": nothing can provision one, as Kubernetes says.
  await until(async () => (await events('ProvisioningFailed')).includes('huge: storageclass.storage.k8s.io "manual" not found'), 'ProvisioningFailed');
  await store.create(claim('classless', { storageClassName: '' }));
  await until(async () => (await events('FailedBinding')).includes('classless: no persistent volumes available for this claim and no storage class is set'), 'FailedBinding');

  await store.delete('PersistentVolume', undefined, 'plain');
  await phase('PersistentVolumeClaim', 'pick', 'Lost');
  assert.equal(await events('ClaimLost'), ['pick: Bound claim has lost its PersistentVolume. Data on the volume is lost!']);
});

test('a static volume whose policy is Delete cannot be deleted by any provisioner: Failed, with the reason, its folder untouched', async () => {
  await store.create(volume('static', '1Gi', {}, 'Delete'));
  await store.create(claim('c', { storageClassName: 'manual' }));
  await phase('PersistentVolumeClaim', 'c', 'Bound');
  await store.delete('PersistentVolumeClaim', 'default', 'c');
  const pv = await phase('PersistentVolume', 'static', 'Failed');
  assert.match(pv.status.message, 'no deletable volume plugin matched');
});

test.run();
