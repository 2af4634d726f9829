import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import { formatIssue } from '../../src/model/issue.ts';
import { brief, fixture } from './helpers.ts';

test('the valid fixture app loads with zero issues', () => {
  const r = loadManifests(fixture('valid-app'));
  assert.equal(r.issues, []);
  assert.equal(r.objects.map((o) => `${o.file}:${o.line}:${o.column} ${o.object.kind}/${o.object.metadata.name}`), [
    'fixtures/manifests/valid-app/config.yaml:3:1 ConfigMap/web-config',
    'fixtures/manifests/valid-app/config.yaml:16:1 Secret/web-secret',
    'fixtures/manifests/valid-app/namespace.yaml:1:1 Namespace/shop',
    'fixtures/manifests/valid-app/web.yml:1:1 Deployment/web',
    'fixtures/manifests/valid-app/web.yml:65:1 Service/web',
    'fixtures/manifests/valid-app/worker.yaml:1:1 ReplicaSet/worker',
    'fixtures/manifests/valid-app/worker.yaml:21:1 Pod/one-off',
  ]);
});

test('errors name file, line, column, object and field path, nested array items included', () => {
  const r = loadManifests(fixture('errors/positions.yaml'));
  assert.equal(r.issues.map(formatIssue), [
    'fixtures/manifests/errors/positions.yaml:13:7: Deployment/api: spec.template.spec.restartPolicy: must be one of Always, OnFailure, Never',
    'fixtures/manifests/errors/positions.yaml:20:15: Deployment/api: spec.template.spec.containers[0].ports[1].containerPort: must be between 1 and 65535',
    // a missing field points at its parent, the list item
    'fixtures/manifests/errors/positions.yaml:21:11: Deployment/api: spec.template.spec.containers[1].image: is required',
    'fixtures/manifests/errors/positions.yaml:25:15: Deployment/api: spec.template.spec.containers[1].resources.limits.memory: must be a quantity such as 250m or 128Mi',
  ]);
  assert.ok(r.issues.every((i) => i.severity === 'error' && i.kind === 'Deployment' && i.name === 'api'));
  assert.equal(r.objects, [], 'an object with errors is not loaded');
});

test('issues are sorted by file, line and column across files', () => {
  const r = loadManifests([
    { path: 'b.yaml', content: 'apiVersion: v1\nkind: Nope\nmetadata: {name: x}\n' },
    { path: 'a.yaml', content: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: Bad_Name}\ndata: {k: 1}\n' },
  ]);
  assert.equal(r.issues.map((i) => `${i.file}:${i.line}:${i.column}`), ['a.yaml:3:12', 'a.yaml:4:8', 'b.yaml:2:1']);
});

test('files that are not *.yaml or *.yml are skipped', () => {
  const r = loadManifests([{ path: 'README.md', content: '# not yaml: [' }, { path: 'x.YML', content: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x}\n' }]);
  assert.equal(r.issues, []);
  assert.is(r.objects.length, 1);
});

test('an issue in one object does not hide another object of the same file', () => {
  const r = loadManifests([{ path: 'm.yaml', content: 'apiVersion: v1\nkind: Namespace\nmetadata: {name: ok}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: NotOk}\n' }]);
  assert.equal(brief(r), ["error 7:12 metadata.name: must be a DNS-1123 label (lower-case letters, digits and '-', starting and ending with a letter or digit, at most 63 characters)"]);
  assert.equal(r.objects.map((o) => o.object.metadata.name), ['ok']);
});

test('a v1 List is its items, each positioned where it is written', () => {
  const r = loadManifests([{ path: 'list.yaml', content: 'apiVersion: v1\nkind: List\nitems:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: a}\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: b}\n    data: {k: 1}\n' }]);
  assert.equal(r.objects.map((o) => o.object.metadata.name), ['a']);
  assert.equal(r.issues.map((i) => `${i.line}:${i.column} ${i.kind}/${i.name} ${i.field}: ${i.message}`), ['10:12 ConfigMap/b data.k: must be a string (quote it: "1")']);
});

test.run();
