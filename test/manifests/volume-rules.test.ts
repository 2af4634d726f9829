// A pod's volumes and mounts as Kubernetes validates them, and hostPath only under the folders serve allows
// (--allow-host-path), checked for every kind with a pod template and for static PersistentVolumes alike.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { brief, load, messages } from './helpers.ts';
import { underPrefix } from '../../src/manifests/volume-rules.ts';

const pod = (volumes: string, mounts = '[{name: v, mountPath: /v}]') => `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  volumes:
${volumes}
  containers:
  - name: c
    image: x
    volumeMounts: ${mounts}
`;

test('good volumes load with no issue and are kept in the object', () => {
  const r = load(pod(`  - {name: v, emptyDir: {medium: Memory, sizeLimit: 64Mi}}
  - {name: cm, configMap: {name: conf, items: [{key: a, path: dir/a.txt, mode: 0400}], defaultMode: 0644, optional: true}}
  - {name: s, secret: {secretName: creds}}
  - {name: d, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
  - {name: pr, projected: {sources: [{configMap: {name: conf}}, {secret: {name: creds}}]}}
  - {name: pvc, persistentVolumeClaim: {claimName: data}}`, '[{name: v, mountPath: /v}, {name: pvc, mountPath: /data, subPath: mysql, readOnly: true}]'));
  assert.equal(brief(r), []);
  assert.is(r.objects[0].object.spec.volumes.length, 6);
  assert.equal(r.objects[0].object.spec.containers[0].volumeMounts[1], { name: 'pvc', mountPath: '/data', subPath: 'mysql', readOnly: true });
});

test('a disk emptyDir\'s sizeLimit is kept without a warning (the node\'s eviction manager enforces it)', () => {
  const r = load(pod('  - {name: v, emptyDir: {sizeLimit: 1Gi}}'));
  assert.equal(brief(r), []);
  assert.is(r.objects[0].object.spec.volumes[0].emptyDir.sizeLimit, '1Gi');
});

test('hostPath outside --allow-host-path is an error at its path field, naming the allowed folders; inside it loads', () => {
  const doc = pod('  - name: v\n    hostPath: {path: /var/lib/docker}');
  assert.equal(brief(load(doc)), ['error 7:16 spec.volumes[0].hostPath.path: hostPath "/var/lib/docker" is outside the host folders this server mounts (serve --allow-host-path <prefix> allows a folder; allowed now: none)']);
  assert.match(messages(load(doc, { allowHostPath: ['/srv', '/var/lib/data'] }))[0], 'allowed now: only "/srv", "/var/lib/data"');
  assert.equal(brief(load(doc, { allowHostPath: ['/var/lib'] })), []);
  const pv = 'apiVersion: v1\nkind: PersistentVolume\nmetadata: {name: pv}\nspec:\n  capacity: {storage: 1Gi}\n  accessModes: [ReadWriteOnce]\n  hostPath: {path: /etc}\n';
  assert.equal(messages(load(pv, { allowHostPath: ['/srv'] })), ['spec.hostPath.path: hostPath "/etc" is outside the host folders this server mounts (serve --allow-host-path <prefix> allows a folder; allowed now: only "/srv")']);
});

test('prefixes match whole path elements, and .. never escapes them', () => {
  assert.ok(underPrefix('/srv/data/x', ['/srv/data']));
  assert.ok(underPrefix('/srv/data', ['/srv/data/']));
  assert.not.ok(underPrefix('/srv/database', ['/srv/data']));
  assert.not.ok(underPrefix('/srv/data/../../etc', ['/srv/data']));
});

test('mounts must name a volume; volume names, types and paths follow Kubernetes\' rules', () => {
  const r = load(pod(`  - {name: v, emptyDir: {}}
  - {name: v, emptyDir: {}, configMap: {name: c}}
  - {name: none}
  - {name: k, configMap: {name: c, items: [{key: a, path: ../a}]}}`, '[{name: w, mountPath: /w}, {name: v, mountPath: /w, subPath: /abs}]'));
  assert.equal(messages(r), [
    'spec.volumes[1].name: duplicate volume name "v"',
    'spec.volumes[1].configMap: may not specify more than 1 volume type (emptyDir is given too)',
    "spec.volumes[3].configMap.items[0].path: must not contain '..'",
    'spec.containers[0].volumeMounts[0].name: names no volume of this pod ("w")',
    'spec.containers[0].volumeMounts[1].mountPath: must be unique ("/w" is mounted already)',
    'spec.containers[0].volumeMounts[1].subPath: must be a relative path',
  ]);
  assert.equal(r.objects, []);
});

test.run();
