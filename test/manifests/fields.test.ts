import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closest } from '../../src/manifests/fields.ts';
import { definitionSchema } from '../../src/manifests/openapi-schema.ts';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import { brief, fixture, load } from './helpers.ts';

test('real but unimplemented Kubernetes fields are warnings; typos are errors with a suggestion', () => {
  const r = loadManifests(fixture('errors/fields.yaml'));
  assert.equal(brief(r), [
    'warning 5:3 metadata.finalizers: finalizers is a Kubernetes field that convergit does not implement; it is ignored',
    'warning 13:9 spec.containers[0].securityContext.runAsNonRoot: runAsNonRoot is a Kubernetes field that convergit does not implement; it is ignored',
    'error 15:11 spec.containers[0].ports[0].containerport: unknown field "containerport"; did you mean "containerPort"?',
    'error 16:7 spec.containers[0].imagePullPolcy: unknown field "imagePullPolcy"; did you mean "imagePullPolicy"?',
    'error 17:7 spec.containers[0].bogus: unknown field "bogus"',
    'error 21:11 spec.containers[0].resources.requests.mem: unknown field "mem"; did you mean "memory"?',
    'warning 22:11 spec.containers[0].resources.requests.ephemeral-storage: "ephemeral-storage" is a Kubernetes resource that convergit does not implement; it is ignored',
    'warning 23:1 status: status is a Kubernetes field that convergit does not implement; it is ignored',
  ]);
  assert.ok(r.issues.every((i) => i.kind === 'Pod' && i.name === 'fields'));
});

test('warnings do not block the object, and ignored fields are dropped from it', () => {
  const r = load('apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  uid: "123"\nspec:\n  preemptionPolicy: Never\n  containers:\n    - name: c\n      image: x:1\n      stdin: true\n');
  assert.equal(r.issues.map((i) => `${i.severity} ${i.field}`), ['warning metadata.uid', 'warning spec.preemptionPolicy', 'warning spec.containers[0].stdin']);
  assert.is(r.objects.length, 1);
  const pod = r.objects[0].object;
  assert.is(pod.metadata.uid, undefined);
  assert.is(pod.spec.preemptionPolicy, undefined);
  assert.is(pod.spec.containers[0].stdin, undefined);
  assert.is(pod.spec.containers[0].image, 'x:1');
});

test('the pod fields convergit acts on are kept: serviceAccountName (env, field selectors), schedulerName (which scheduler binds it), enableServiceLinks (service env)', () => {
  const r = load('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  serviceAccountName: fluentd\n  schedulerName: other\n  enableServiceLinks: false\n  containers: [{name: c, image: x}]\n');
  assert.equal(r.issues, []);
  const spec = r.objects[0].object.spec;
  assert.equal([spec.serviceAccountName, spec.schedulerName, spec.enableServiceLinks], ['fluentd', 'other', false]);
});

test('--strict turns unimplemented fields into errors', () => {
  const r = load('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, image: x, stdin: true}]\n', { strict: true });
  assert.equal(brief(r), ['error 5:36 spec.containers[0].stdin: stdin is a Kubernetes field that convergit does not implement']);
  assert.equal(r.objects, []);
});

test('a typo of a required field reports the typo only, not also "is required"', () => {
  const r = load('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: c, imag: x}]\n');
  assert.equal(brief(r), ['error 5:26 spec.containers[0].imag: unknown field "imag"; did you mean "image"?']);
});

test('suggestions compare case-insensitively and include unimplemented Kubernetes fields', () => {
  assert.is(closest('containerport', ['containerPort', 'name']), 'containerPort');
  assert.is(closest('REPLICAS', ['replicas']), 'replicas');
  assert.is(closest('contianers', ['containers', 'nodeName']), 'containers');
  assert.is(closest('xyz', ['containers', 'nodeName']), undefined);
  assert.is(closest('foo', ['for']), 'for');
  assert.is(closest('fo', ['for', 'bar']), 'for');
  const r = load('apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  tolerration: []\n  containers: [{name: c, image: x}]\n');
  assert.equal(brief(r), ['error 5:3 spec.tolerration: unknown field "tolerration"; did you mean "tolerations"?']);
});

test('the Kubernetes field tree comes from Kubernetes 1.32 OpenAPI document', () => {
  const fields = (def: string) => Object.keys(definitionSchema(def)?.properties ?? {});
  const container = fields('io.k8s.api.core.v1.Container');
  for (const f of ['name', 'image', 'securityContext', 'lifecycle', 'volumeMounts', 'readinessProbe', 'resizePolicy']) assert.ok(container.includes(f), f);
  assert.ok(fields('io.k8s.api.core.v1.PodSpec').includes('affinity'));
  assert.ok(fields('io.k8s.api.core.v1.Probe').includes('grpc'));
  assert.equal(fields('io.k8s.api.core.v1.ConfigMap').sort(), ['apiVersion', 'binaryData', 'data', 'immutable', 'kind', 'metadata']);
  assert.is(definitionSchema('io.k8s.api.core.v1.PodSpec')?.additionalProperties, false, 'objects are closed: unknown fields are reported');
  assert.equal(definitionSchema('io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta')?.properties.labels.additionalProperties.type, 'string');
  // Real fields of kinds convergit does not run are accepted without a per-field warning.
  const r = load('apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: sa}\nautomountServiceAccountToken: false\nimagePullSecrets: [{name: regcred}]\n');
  assert.equal(brief(r), ['warning 2:1 kind: ServiceAccount is kept, not run: validated, stored, pruned and served, but no tokens are issued']);
  assert.is(r.objects[0].object.automountServiceAccountToken, false);
});

test('a clean load has no issues, again and again (compiled validators are reused)', () => {
  const files = fixture('valid-app');
  for (let i = 0; i < 5; i++) assert.equal(loadManifests(files).issues, []);
});

test('a huge unknown key is quoted by its start and length, in the message and the field path', () => {
  const key = 'k'.repeat(500_000);
  const r = load(`apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  ${key}: v\n`);
  assert.equal(brief(r), [`error 5:3 metadata["${'k'.repeat(60)}…(500000 characters)"]: unknown field "${'k'.repeat(60)}…(500000 characters)"`]);
  assert.is(closest('x'.repeat(10_000), ['name', 'namespace']), undefined);
});

test.run();
