// A pod's volumes laid out on the node from the store, as the kubelet's plugins do: configMap items and modes,
// secrets decoded, downwardAPI fields and resources, projected sources merged, optional sources, the kubelet's
// messages for what is missing, claims only once bound, subPath resolved inside the volume, memory emptyDirs as
// tmpfs, hostPath types, and the folders of pods that are gone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../../src/model/object.ts';
import { containerMounts, mountsOnHost, mountsUnder, refreshVolumes, setUpVolumes, tearDownVolumes, type VolumeContext } from '../../src/node/volumes/pod-volumes.ts';
import { removeOrphanedPodDirs } from '../../src/node/volumes/orphans.ts';
import { cleanup, freshStore, tempDir } from '../store/helpers.ts';

test.after.each(cleanup);

const pod = (volumes: any[]): KubeObject => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default', uid: 'uid-1', labels: { app: 'web', tier: 'front' } },
  spec: { volumes, containers: [{ name: 'c', image: 'x', resources: { limits: { memory: '64Mi' } } }] },
});

async function setup() {
  const { store } = await freshStore();
  const dataDir = await tempDir();
  await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf', namespace: 'default' }, data: { a: 'A', b: 'B' }, binaryData: { bin: Buffer.from([0, 1, 2]).toString('base64') } });
  await store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds', namespace: 'default' }, data: { password: Buffer.from('s3cret').toString('base64') } });
  const ctx: VolumeContext = { store, dataDir, podIP: '127.1.0.5', hostIP: '127.0.0.1', allocatable: { cpu: 4, memory: 1 << 30 } };
  return { store, dataDir, ctx };
}

test('configMap, secret, downwardAPI and projected volumes hold their files with their modes', async () => {
  const { ctx, dataDir } = await setup();
  const p = pod([
    { name: 'all', configMap: { name: 'conf' } },
    { name: 'items', configMap: { name: 'conf', items: [{ key: 'a', path: 'sub/a.txt', mode: 0o400 }], defaultMode: 0o600 } },
    { name: 's', secret: { secretName: 'creds' } },
    { name: 'd', downwardAPI: { items: [{ path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } }, { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
      { path: 'mem', resourceFieldRef: { containerName: 'c', resource: 'limits.memory', divisor: '1Mi' } }] } },
    { name: 'pr', projected: { sources: [{ configMap: { name: 'conf', items: [{ key: 'b', path: 'b' }] } }, { secret: { name: 'creds' } }, { downwardAPI: { items: [{ path: 'ns', fieldRef: { fieldPath: 'metadata.namespace' } }] } }] } },
  ]);
  const vols = await setUpVolumes(p, ctx);
  const file = (v: string, f: string) => readFileSync(join(vols.get(v)!.hostPath, f));
  assert.is(vols.get('all')!.hostPath, join(dataDir, 'pods', 'uid-1', 'volumes', 'kubernetes.io~configmap', 'all'));
  assert.is(String(file('all', 'a')), 'A');
  assert.equal([...file('all', 'bin')], [0, 1, 2]);
  assert.is(String(file('items', 'sub/a.txt')), 'A');
  assert.is(statSync(join(vols.get('items')!.hostPath, 'sub/a.txt')).mode & 0o777, 0o400);
  assert.is(String(file('s', 'password')), 's3cret');
  assert.is(String(file('d', 'labels')), 'app="web"\ntier="front"');
  assert.is(String(file('d', 'name')), 'p');
  assert.is(String(file('d', 'mem')), '64');
  assert.equal(['b', 'password', 'ns'].map((f) => String(file('pr', f))), ['B', 's3cret', 'default']);
  assert.ok([...vols.values()].every((v) => v.readOnly && v.projected));
});

test('missing sources: optional ones are empty, required ones fail with the kubelet\'s message; a change is written by the refresh', async () => {
  const { ctx, store } = await setup();
  const optional = await setUpVolumes(pod([{ name: 'o', configMap: { name: 'nope', optional: true } }]), ctx);
  assert.ok(optional.get('o'));
  const failure = (vols: any[]) => setUpVolumes(pod(vols), ctx).then(() => 'set up', (e: Error) => e.message);
  assert.is(await failure([{ name: 'm', configMap: { name: 'nope' } }]), 'MountVolume.SetUp failed for volume "m" : configmap "nope" not found');
  assert.is(await failure([{ name: 'k', configMap: { name: 'conf', items: [{ key: 'zz', path: 'z' }] } }]), 'MountVolume.SetUp failed for volume "k" : configmap references non-existent config key: zz');
  assert.is(await failure([{ name: 'c', persistentVolumeClaim: { claimName: 'data' } }]), 'MountVolume.SetUp failed for volume "c" : persistentvolumeclaim "data" not found');
  await store.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'] } });
  assert.is(await failure([{ name: 'c', persistentVolumeClaim: { claimName: 'data' } }]), 'MountVolume.SetUp failed for volume "c" : PersistentVolumeClaim default/data is not bound');

  const p = pod([{ name: 'all', configMap: { name: 'conf' } }]);
  const vols = await setUpVolumes(p, ctx);
  const cm = (await store.get('ConfigMap', 'default', 'conf'))!;
  await store.update({ ...cm, data: { a: 'A2' }, binaryData: undefined });
  assert.ok(await refreshVolumes(p, ctx));
  assert.is(readFileSync(join(vols.get('all')!.hostPath, 'a'), 'utf8'), 'A2');
  assert.not.ok(await refreshVolumes(p, ctx));
});

test('a bound claim mounts its volume\'s folder; subPath is made inside a writable volume, read through links in a configMap, never outside', async () => {
  const { ctx, store, dataDir } = await setup();
  const folder = join(dataDir, 'storage', 'pv1');
  await store.create({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv1' }, spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], hostPath: { path: folder, type: 'DirectoryOrCreate' }, claimRef: { namespace: 'default', name: 'data' } } });
  await store.create({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default' }, spec: { accessModes: ['ReadWriteOnce'], volumeName: 'pv1' } });
  await store.updateStatus('PersistentVolumeClaim', 'default', 'data', { phase: 'Bound' });
  const p = pod([{ name: 'data', persistentVolumeClaim: { claimName: 'data' } }, { name: 'conf', configMap: { name: 'conf' } }, { name: 'e', emptyDir: {} }]);
  const vols = await setUpVolumes(p, ctx);
  assert.is(vols.get('data')!.hostPath, folder);
  const mounts = await containerMounts({ volumeMounts: [
    { name: 'data', mountPath: '/var/lib/mysql', subPath: 'mysql' },
    { name: 'conf', mountPath: '/etc/a', subPath: 'a' },
    { name: 'e', mountPath: '/scratch', readOnly: true },
  ] }, vols);
  assert.equal(mounts.map((m) => [m.hostPath.replace(dataDir, '<data>'), m.containerPath, !!m.readOnly]), [
    ['<data>/storage/pv1/mysql', '/var/lib/mysql', false],
    [`<data>/pods/uid-1/volumes/kubernetes.io~configmap/conf/${readlinkSync(join(vols.get('conf')!.hostPath, '..data'))}/a`, '/etc/a', true],
    ['<data>/pods/uid-1/volumes/kubernetes.io~empty-dir/e', '/scratch', true],
  ]);
  const escape = await containerMounts({ volumeMounts: [{ name: 'conf', mountPath: '/x', subPath: 'nothere' }] }, vols).then(() => 'mounted', (e: Error) => e.message);
  assert.is(escape, 'subPath "nothere" of volume "conf" does not exist');
  await tearDownVolumes(dataDir, 'uid-1');
  assert.not.ok(existsSync(join(dataDir, 'pods', 'uid-1')));
  assert.ok(existsSync(join(folder, 'mysql')), 'the claim\'s data stays');
});

test('emptyDir medium Memory is a tmpfs of its sizeLimit, unmounted with the pod; hostPath types are checked or created', async () => {
  const { ctx, dataDir } = await setup();
  const vols = await setUpVolumes(pod([
    { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '1Mi' } },
    { name: 'made', hostPath: { path: join(dataDir, 'host', 'made'), type: 'DirectoryOrCreate' } },
    // No type: no check, and a missing source becomes a directory, as containerd and CRI-O bind it.
    { name: 'untyped', hostPath: { path: join(dataDir, 'host', 'untyped') } },
  ]), ctx);
  const mem = vols.get('mem')!.hostPath;
  assert.equal(await mountsUnder(mem), [mem]);
  const info = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' ')[4] === mem)!;
  assert.match(info, /tmpfs .*size=1024k/);
  assert.ok(statSync(join(dataDir, 'host', 'made')).isDirectory());
  assert.ok(statSync(join(dataDir, 'host', 'untyped')).isDirectory());
  const failure = await setUpVolumes(pod([{ name: 'f', hostPath: { path: join(dataDir, 'host'), type: 'File' } }]), ctx).then(() => 'set up', (e: Error) => e.message);
  assert.is(failure, `MountVolume.SetUp failed for volume "f" : hostPath type check failed: ${join(dataDir, 'host')} is not a file`);
  await tearDownVolumes(dataDir, 'uid-1');
  assert.equal(await mountsUnder(mem), []);
  assert.not.ok(existsSync(mem));
});

test('mountsUnder finds a mount under a folder whose name the mount table escapes (a space, a backslash), and none elsewhere', async () => {
  const { dataDir } = await setup();
  const odd = join(dataDir, 'a b\\c', 'mnt');
  mkdirSync(odd, { recursive: true });
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', odd]);
  try {
    assert.equal(await mountsUnder(join(dataDir, 'a b\\c')), [odd]);
    assert.equal(await mountsUnder(odd), [odd]);
    assert.equal(await mountsUnder(join(dataDir, 'a b')), [], 'a folder whose name only begins the same');
  } finally {
    execFileSync('umount', ['-l', odd]);
  }
  assert.equal(await mountsUnder(odd), []);
});

test('mountsOnHost: only a tmpfs emptyDir is mounted on the host; a pod without one is torn down without reading the mount table', async () => {
  assert.is(mountsOnHost(pod([{ name: 'mem', emptyDir: { medium: 'Memory' } }, { name: 'disk', emptyDir: {} }])), true);
  assert.is(mountsOnHost(pod([{ name: 'disk', emptyDir: {} }, { name: 'conf', configMap: { name: 'conf' } }, { name: 'h', hostPath: { path: '/tmp' } }])), false);
  assert.is(mountsOnHost(pod([])), false);
  const { ctx, dataDir } = await setup();
  const vols = await setUpVolumes(pod([{ name: 'disk', emptyDir: {} }, { name: 'all', configMap: { name: 'conf' } }]), ctx);
  assert.ok(existsSync(vols.get('all')!.hostPath));
  await tearDownVolumes(dataDir, 'uid-1', { mounted: false });
  assert.not.ok(existsSync(vols.get('all')!.hostPath));
  assert.not.ok(existsSync(vols.get('disk')!.hostPath));
});

test('at node start, the volume folders of pods gone from the store are removed (not young ones, not logs, not live pods\')', async () => {
  const { ctx, store, dataDir } = await setup();
  const live = await store.create({ ...pod([{ name: 'e', emptyDir: {} }]), metadata: { name: 'live', namespace: 'default' } });
  await setUpVolumes(live, ctx);
  await setUpVolumes(pod([{ name: 'e', emptyDir: {} }]), ctx); // uid-1: not in the store
  mkdirSync(join(dataDir, 'pods', 'default_p_uid-1'), { recursive: true }); // its logs: not ours to remove
  assert.equal(await removeOrphanedPodDirs(store, dataDir), [], 'a folder made a moment ago is left alone');
  assert.equal(await removeOrphanedPodDirs(store, dataDir, Date.now() + 120_000), ['uid-1']);
  assert.not.ok(existsSync(join(dataDir, 'pods', 'uid-1')));
  assert.ok(existsSync(join(dataDir, 'pods', live.metadata.uid!)));
  assert.ok(existsSync(join(dataDir, 'pods', 'default_p_uid-1')));
});

test.run();
