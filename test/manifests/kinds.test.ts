import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import { allKinds, kindInfo } from '../../src/model/kinds.ts';
import { fixture, load } from './helpers.ts';

test('kinds and apiVersions: unknown, wrong version, refused, missing', () => {
  const r = loadManifests(fixture('errors/kinds.yaml'));
  assert.equal(r.issues.map((i) => `${i.line}:${i.column} ${i.kind ?? '-'}/${i.name ?? '-'} ${i.field}: ${i.message}`), [
    '1:1 Deployment/wrong-api apiVersion: must be "apps/v1" for Deployment, not "v1"',
    '6:1 CronJob/unsupported apiVersion: must be "batch/v1" for CronJob, not "v1"',
    '12:1 deployment/lower-case kind: unknown kind "deployment"; did you mean "Deployment"?: apps/v1 has no such kind in Kubernetes 1.32',
    '17:1 Event/ev kind: Event cannot be committed: Events are recorded by the components as things happen; they cannot be committed',
    '21:1 ConfigMap/no-api apiVersion: is required ("v1" for ConfigMap)',
    '25:1 -/no-kind kind: is required',
    '31:1 ConfigMap/- metadata.name: is required',
    '34:1 -/- : a manifest must be a mapping with apiVersion, kind and metadata',
  ]);
  assert.ok(r.issues.every((i) => i.severity === 'error'));
  assert.equal(r.objects, []);
});

test('every built-in kind of Kubernetes 1.32 is run, kept or refused; none is unknown', () => {
  const kinds = allKinds();
  for (const k of ['ServiceAccount', 'Role', 'ClusterRoleBinding', 'PersistentVolumeClaim', 'StorageClass', 'StatefulSet', 'Job', 'CronJob',
    'DaemonSet', 'Ingress', 'HorizontalPodAutoscaler', 'NetworkPolicy', 'PodDisruptionBudget', 'CustomResourceDefinition', 'APIService',
    'PriorityClass', 'Lease', 'CertificateSigningRequest', 'RuntimeClass', 'FlowSchema', 'ValidatingWebhookConfiguration', 'EndpointSlice', 'DeviceClass']) {
    assert.ok(kinds.some((i) => i.kind === k), k);
  }
  for (const i of kinds) {
    assert.ok(['run', 'kept', 'refused'].includes(i.mode), i.kind);
    if (i.mode !== 'run') assert.ok(i.reason, `${i.kind} says why it is ${i.mode}`);
  }
  assert.equal(kindInfo('HorizontalPodAutoscaler')?.versions, ['v2', 'v1'], 'both served versions, the preferred first');
  assert.is(kindInfo('ClusterRole')?.namespaced, false);
  assert.is(kindInfo('Role')?.namespaced, true);
  assert.equal(kindInfo('StatefulSet')?.shortNames, ['sts']);
  assert.ok(kindInfo('Deployment')?.categories.includes('all'));
  assert.is(kindInfo('Binding')?.mode, 'refused');
});

test('kind suggestions come only from real kinds, and real kinds are never "typos"', () => {
  const r = load('apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1beta1.metrics.k8s.io}\nspec:\n  group: metrics.k8s.io\n  version: v1beta1\n  groupPriorityMinimum: 100\n  versionPriority: 100\n');
  assert.equal(r.issues.filter((i) => i.severity === 'error'), []);
  const typo = load('apiVersion: v1\nkind: Servce\nmetadata: {name: s}\n');
  assert.match(typo.issues[0].message, 'did you mean "Service"?');
  const older = load('apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 3\n  targetCPUUtilizationPercentage: 50\n');
  assert.equal(older.issues.filter((i) => i.severity === 'error'), [], 'autoscaling/v1 validates against its own schema');
  const v2only = load('apiVersion: autoscaling/v1\nkind: HorizontalPodAutoscaler\nmetadata: {name: h}\nspec:\n  scaleTargetRef: {kind: Deployment, name: web}\n  maxReplicas: 3\n  metrics: []\n');
  assert.match(v2only.issues[0].message, 'unknown field "metrics"');
});

test('a huge kind or apiVersion is quoted by its start and length', () => {
  const x = 'x'.repeat(70_000), cut = `${'x'.repeat(60)}…(70000 characters)`;
  const msg = (doc: string) => loadManifests([{ path: 'a.yaml', content: doc }]).issues.map((i) => `${i.field}: ${i.message}`);
  assert.equal(msg(`apiVersion: ${x}\nkind: Service\nmetadata: {name: a}\n`), [`apiVersion: must be "v1" for Service, not "${cut}"`]);
  assert.equal(msg(`apiVersion: v1\nkind: ${x}\nmetadata: {name: a}\n`), [`kind: unknown kind "${cut}": v1 has no such kind in Kubernetes 1.32`]);
});

test.run();
