import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { carryAllocated } from '../../src/model/allocated.ts';

const svc = (spec: Record<string, unknown>, annotations?: Record<string, string>) =>
  ({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's', ...(annotations && { annotations }) }, spec });

test('a git copy without clusterIP or nodePorts keeps the allocated ones', () => {
  const live = svc({ type: 'NodePort', clusterIP: '127.2.0.9', clusterIPs: ['127.2.0.9'], ports: [{ name: 'http', port: 80, nodePort: 30080 }, { port: 81, nodePort: 30081 }] });
  const next = svc({ type: 'NodePort', ports: [{ port: 81 }, { name: 'http', port: 8080 }, { name: 'new', port: 82 }] });
  const out = carryAllocated(live, next);
  assert.equal(out.spec, {
    type: 'NodePort', clusterIP: '127.2.0.9', clusterIPs: ['127.2.0.9'],
    ports: [{ port: 81, nodePort: 30081 }, { name: 'http', port: 8080, nodePort: 30080 }, { name: 'new', port: 82 }],
  });
  assert.equal(next.spec, { type: 'NodePort', ports: [{ port: 81 }, { name: 'http', port: 8080 }, { name: 'new', port: 82 }] }, 'argument untouched');
});

test('what git says wins; a ClusterIP service drops its node ports; headless is not carried', () => {
  const live = svc({ type: 'NodePort', clusterIP: '127.2.0.9', ports: [{ port: 80, nodePort: 30080 }] });
  assert.is(carryAllocated(live, svc({ clusterIP: '127.2.0.7', ports: [] })).spec.clusterIP, '127.2.0.7');
  assert.equal(carryAllocated(live, svc({ type: 'ClusterIP', ports: [{ port: 80 }] })).spec.ports, [{ port: 80 }]);
  assert.is(carryAllocated(live, svc({ clusterIP: 'None' })).spec.clusterIP, 'None');
  assert.is(carryAllocated(svc({ clusterIP: 'None' }), svc({})).spec.clusterIP, undefined);
});

test('a pod keeps the node it was bound to unless git names one', () => {
  const live = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { nodeName: 'node-1', containers: [] } };
  assert.is((carryAllocated(live, { ...live, spec: { containers: [{ name: 'c' }] } }).spec as { nodeName?: string }).nodeName, 'node-1');
  assert.is(carryAllocated(live, { ...live, spec: { nodeName: 'node-2', containers: [] } }).spec.nodeName, 'node-2');
});

test('controller annotations are carried, the user\'s are not', () => {
  const live = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', annotations: { 'deployment.kubernetes.io/revision': '3', note: 'old' } } };
  const out = carryAllocated(live, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' } });
  assert.equal((out.metadata as Record<string, unknown>).annotations, { 'deployment.kubernetes.io/revision': '3' });
  assert.is(carryAllocated(undefined, live), live);
});

test('a claim keeps its binding and default class, a volume its claimRef and the binder\'s annotations, when git leaves them out', () => {
  const pvc = (spec: Record<string, unknown>, annotations?: Record<string, string>): Record<string, any> => ({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'data', namespace: 'default', ...(annotations && { annotations }) }, spec: { accessModes: ['ReadWriteOnce'], ...spec } });
  const live = pvc({ volumeName: 'pvc-1', storageClassName: 'local-path' }, { 'pv.kubernetes.io/bind-completed': 'yes', 'volume.kubernetes.io/selected-node': 'n1' });
  const out = carryAllocated(live, pvc({}));
  assert.equal([out.spec.volumeName, out.spec.storageClassName], ['pvc-1', 'local-path']);
  assert.equal(out.metadata.annotations, live.metadata.annotations);
  assert.is(carryAllocated(live, pvc({ storageClassName: 'fast' })).spec.storageClassName, 'fast');
  const pv = (spec: Record<string, unknown>): Record<string, any> => ({ apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: 'pv' }, spec: { capacity: { storage: '1Gi' }, ...spec } });
  assert.equal(carryAllocated(pv({ claimRef: { namespace: 'default', name: 'data', uid: 'u' } }), pv({})).spec.claimRef, { namespace: 'default', name: 'data', uid: 'u' });
});

test('a frozen git copy (the loader shares its objects) is carried into without a change to it or a deep copy', () => {
  const freeze = <T>(o: T): T => { if (o && typeof o === 'object') { Object.values(o).forEach(freeze); Object.freeze(o); } return o; };
  const live = svc({ type: 'NodePort', clusterIP: '127.2.0.9', ports: [{ name: 'http', port: 80, nodePort: 30080 }] }, { 'deployment.kubernetes.io/revision': '2' });
  const next = freeze(svc({ type: 'NodePort', ports: [{ name: 'http', port: 80 }], selector: { app: 'a' } }, { note: 'mine' }));
  const before = JSON.stringify(next);
  const out = carryAllocated(live, next);
  assert.equal(out.spec.ports, [{ name: 'http', port: 80, nodePort: 30080 }]);
  assert.is(out.spec.clusterIP, '127.2.0.9');
  assert.equal(out.metadata.annotations, { note: 'mine', 'deployment.kubernetes.io/revision': '2' });
  assert.is(JSON.stringify(next), before, 'the frozen argument is untouched');
  assert.is(out.spec.selector, next.spec.selector, 'what is not carried into is shared, not copied');
  // Every other branch, each carrying into a frozen object: a write into it would throw (strict mode).
  const cases: [Record<string, any>, Record<string, any>, (out: any) => unknown, unknown][] = [
    [{ kind: 'Pod', spec: { nodeName: 'n1', containers: [] } }, { kind: 'Pod', spec: { containers: [{ name: 'c' }] } }, (o) => o.spec.nodeName, 'n1'],
    [{ kind: 'Pod', spec: { containers: [], tolerations: [{ key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 }] } },
      { kind: 'Pod', spec: { containers: [] } }, (o) => o.spec.tolerations.length, 1],
    [{ kind: 'Pod', spec: { containers: [], imagePullSecrets: [{ name: 'r' }] } }, { kind: 'Pod', spec: { containers: [] } }, (o) => o.spec.imagePullSecrets, [{ name: 'r' }]],
    [{ kind: 'PersistentVolumeClaim', spec: { volumeName: 'pv-1', storageClassName: 'standard' } }, { kind: 'PersistentVolumeClaim', spec: { resources: {} } },
      (o) => [o.spec.volumeName, o.spec.storageClassName, o.spec.resources], ['pv-1', 'standard', {}]],
    [{ kind: 'PersistentVolume', spec: { claimRef: { name: 'c' } } }, { kind: 'PersistentVolume', spec: { capacity: {} } }, (o) => o.spec.claimRef, { name: 'c' }],
  ];
  for (const [live, next, get, want] of cases) {
    const git = freeze({ apiVersion: 'v1', metadata: { name: 'x' }, ...next });
    const before = JSON.stringify(git);
    assert.equal(get(carryAllocated({ apiVersion: 'v1', metadata: { name: 'x' }, ...live }, git)), want, next.kind);
    assert.is(JSON.stringify(git), before);
  }
});

test.run();
