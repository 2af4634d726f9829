// The Table API's columns and cells for the workload and storage kinds, against what Kubernetes' own printers
// (pkg/printers/internalversion/printers.go, 1.32) print for the same objects.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { toTable } from '../../src/api/tables.ts';
import type { KubeObject } from '../../src/model/object.ts';

const T = new Date(Date.now() - 3_600_000).toISOString(); // a deletion time, printed as Terminating whatever its age
// Created an hour before the object is made (not before the file loaded: a loaded machine can take a minute between).
const obj = (kind: string, name: string, rest: Record<string, unknown> = {}, meta: Record<string, unknown> = {}): KubeObject =>
  ({ apiVersion: 'v1', kind, metadata: { name, namespace: 'default', creationTimestamp: new Date(Date.now() - 3_600_000).toISOString(), ...meta }, ...rest }) as KubeObject;
const table = (kind: string, ...items: KubeObject[]) => toTable(kind, items, '1');
const names = (t: ReturnType<typeof table>) => t.columnDefinitions.map((c) => c.name);
const rows = (t: ReturnType<typeof table>) => t.rows.map((r) => r.cells);

test('PodDisruptionBudget: MIN AVAILABLE and MAX UNAVAILABLE as set (N/A when not), ALLOWED DISRUPTIONS, AGE', () => {
  const t = table('PodDisruptionBudget',
    obj('PodDisruptionBudget', 'web', { spec: { minAvailable: 2 }, status: { disruptionsAllowed: 1 } }),
    obj('PodDisruptionBudget', 'kv', { spec: { maxUnavailable: '25%' }, status: { disruptionsAllowed: 0 } }));
  assert.equal(names(t), ['Name', 'Min Available', 'Max Unavailable', 'Allowed Disruptions', 'Age']);
  assert.equal(t.columnDefinitions.map((c) => c.type), ['string', 'string', 'string', 'integer', 'string']);
  assert.equal(rows(t), [['web', '2', 'N/A', 1, '60m'], ['kv', 'N/A', '25%', 0, '60m']]);
});

test('IngressClass: CONTROLLER, PARAMETERS as Kind.apiGroup/name or <none>', () => {
  const t = table('IngressClass',
    obj('IngressClass', 'nginx', { spec: { controller: 'k8s.io/ingress-nginx', parameters: { apiGroup: 'k8s.example.com', kind: 'IngressParameters', name: 'external-lb' } } }),
    obj('IngressClass', 'plain', { spec: { controller: 'convergit.dev/ingress' } }));
  assert.equal(names(t), ['Name', 'Controller', 'Parameters', 'Age']);
  assert.equal(rows(t), [['nginx', 'k8s.io/ingress-nginx', 'IngressParameters.k8s.example.com/external-lb', '60m'], ['plain', 'convergit.dev/ingress', '<none>', '60m']]);
});

test('CronJob SUSPEND prints False/True; Job STATUS and COMPLETIONS as printJob', () => {
  const cron = table('CronJob', obj('CronJob', 'backup', { spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { containers: [] } } } } }, status: {} }));
  assert.equal(rows(cron)[0].slice(0, 6), ['backup', '* * * * *', '<none>', 'False', 0, '<none>']);
  assert.is(rows(table('CronJob', obj('CronJob', 'b', { spec: { schedule: '@daily', suspend: true } })))[0][3], 'True');
  const jobs = table('Job',
    obj('Job', 'one', { spec: { completions: 3 }, status: { succeeded: 1 } }),
    obj('Job', 'queue', { spec: { parallelism: 4 }, status: {} }),
    obj('Job', 'single', { spec: {}, status: { conditions: [{ type: 'FailureTarget', status: 'True' }] } }),
    obj('Job', 'gone', { spec: { completions: 1 }, status: {} }, { deletionTimestamp: T }));
  assert.equal(rows(jobs).map((r) => r.slice(0, 3)), [['one', 'Running', '1/3'], ['queue', 'Running', '0/1 of 4'], ['single', 'FailureTarget', '0/1'], ['gone', 'Terminating', '0/1']]);
});

test('Pod RESTARTS: init containers count, and their last restart is the time shown while the pod initializes', () => {
  const ago = (m: number) => new Date(Date.now() - m * 60_000).toISOString();
  const pod = obj('Pod', 'p', {
    spec: { initContainers: [{ name: 'setup' }], containers: [{ name: 'app' }] },
    status: {
      phase: 'Pending',
      initContainerStatuses: [{ name: 'setup', restartCount: 2, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: ago(3) } } }],
      containerStatuses: [{ name: 'app', restartCount: 0, state: { waiting: { reason: 'PodInitializing' } } }],
    },
  });
  const cells = rows(table('Pod', pod))[0];
  assert.is(cells[2], 'Init:CrashLoopBackOff');
  assert.match(String(cells[3]), /^2 \(3m\d*s? ago\)$/);
});

test('Ingress HOSTS: three hosts, then + N more... counted over the rules', () => {
  const rules = ['a', 'b', 'c', 'd', 'e'].map((h) => ({ host: `${h}.example` }));
  const t = table('Ingress', obj('Ingress', 'many', { spec: { rules } }), obj('Ingress', 'any', { spec: { rules: [{}] } }));
  assert.equal(rows(t).map((r) => r[2]), ['a.example,b.example,c.example + 2 more...', '*']);
});

test('PersistentVolumeClaim: capacity and access modes only once bound to a volume; Terminating while deleted; modes in kubectl\'s order', () => {
  const t = table('PersistentVolumeClaim',
    obj('PersistentVolumeClaim', 'pending', { spec: { storageClassName: 'local-path' }, status: { phase: 'Pending', capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'] } }),
    obj('PersistentVolumeClaim', 'bound', { spec: { volumeName: 'pv-1', storageClassName: 'local-path' }, status: { phase: 'Bound', capacity: { storage: '64Mi' }, accessModes: ['ReadWriteMany', 'ReadWriteOnce'] } }, { deletionTimestamp: T }));
  assert.equal(rows(t).map((r) => r.slice(0, 6)), [
    ['pending', 'Pending', '', '', '', 'local-path'],
    ['bound', 'Terminating', 'pv-1', '64Mi', 'RWO,RWX', 'local-path'],
  ]);
});

test('StorageClass (default) from the GA or beta annotation; a volume\'s class from the beta annotation first; HPA columns typed as printers.go', () => {
  const sc = table('StorageClass',
    obj('StorageClass', 'local-path', { provisioner: 'rancher.io/local-path', volumeBindingMode: 'WaitForFirstConsumer' }, { annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } }),
    obj('StorageClass', 'old', { provisioner: 'x' }, { annotations: { 'storageclass.beta.kubernetes.io/is-default-class': 'true' } }),
    obj('StorageClass', 'plain', { provisioner: 'x', reclaimPolicy: 'Retain', allowVolumeExpansion: true }));
  assert.equal(names(sc), ['Name', 'Provisioner', 'ReclaimPolicy', 'VolumeBindingMode', 'AllowVolumeExpansion', 'Age']);
  assert.equal(rows(sc).map((r) => r.slice(0, 5)), [
    ['local-path (default)', 'rancher.io/local-path', 'Delete', 'WaitForFirstConsumer', false],
    ['old (default)', 'x', 'Delete', 'Immediate', false],
    ['plain', 'x', 'Retain', 'Immediate', true],
  ]);
  const pv = table('PersistentVolume', obj('PersistentVolume', 'pv-1', { spec: { storageClassName: 'fast', capacity: { storage: '1Gi' } }, status: { phase: 'Available' } }, { annotations: { 'volume.beta.kubernetes.io/storage-class': 'slow' } }));
  assert.is(rows(pv)[0][6], 'slow');
  const hpa = table('HorizontalPodAutoscaler', obj('HorizontalPodAutoscaler', 'web', { spec: { scaleTargetRef: { kind: 'Deployment', name: 'web' }, maxReplicas: 5 }, status: { currentReplicas: 2 } }));
  assert.equal(hpa.columnDefinitions.map((c) => `${c.name}:${c.type}`), ['Name:string', 'Reference:string', 'Targets:string', 'MinPods:string', 'MaxPods:string', 'Replicas:string', 'Age:string']);
  assert.equal(rows(hpa)[0].slice(0, 6), ['web', 'Deployment/web', '<none>', '1', 5, 2]);
});

test.run();
