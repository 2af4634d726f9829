import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import { formatIssue } from '../../src/model/issue.ts';
import { fixture, load, messages } from './helpers.ts';

test('duplicates, missing namespaces and selector mismatches across files', () => {
  const r = loadManifests(fixture('errors/cross-object'));
  assert.equal(r.issues.map(formatIssue), [
    'fixtures/manifests/errors/cross-object/a.yaml:13:3: Deployment/mismatch: spec.selector: does not match the template labels (spec.template.metadata.labels)',
    'fixtures/manifests/errors/cross-object/b.yaml:9:3: ConfigMap/settings: metadata.name: duplicate ConfigMap team-a/settings, first defined at fixtures/manifests/errors/cross-object/a.yaml:1',
    'fixtures/manifests/errors/cross-object/b.yaml:16:3: ConfigMap/orphan: metadata.namespace: namespace "nowhere" does not exist: commit a Namespace named "nowhere" or use a built-in one (default, kube-system, kube-public, kube-node-lease)',
    'fixtures/manifests/errors/cross-object/b.yaml:26:3: Namespace/team-a: metadata.name: duplicate Namespace team-a, first defined at fixtures/manifests/errors/cross-object/b.yaml:1',
  ]);
});

test('a namespace committed in the same revision or built in is fine; the default namespace counts for duplicates', () => {
  const cm = (meta: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {${meta}}\n---\n`;
  assert.equal(messages(load(cm('name: a, namespace: kube-system') + 'apiVersion: v1\nkind: Namespace\nmetadata: {name: mine}\n---\n' + cm('name: b, namespace: mine'))), []);
  assert.equal(messages(load(cm('name: a') + cm('name: a, namespace: default'))), ['metadata.name: duplicate ConfigMap default/a, first defined at t.yaml:1']);
  assert.equal(messages(load(cm('name: a') + 'apiVersion: v1\nkind: Secret\nmetadata: {name: a}\n')), [], 'same name, different kind');
});

test('Endpoints are committed only for a Service without a selector; those of a selected Service are refused', () => {
  const svc = (selector: string) => `apiVersion: v1\nkind: Service\nmetadata: {name: db}\nspec:\n  ${selector}ports: [{port: 5432}]\n---\n`;
  const ep = 'apiVersion: v1\nkind: Endpoints\nmetadata: {name: db}\nsubsets: [{addresses: [{ip: 10.0.0.5}], ports: [{port: 5432}]}]\n';
  assert.equal(load(svc('') + ep).issues.filter((i) => i.severity === 'error'), [], 'an external database behind a selector-less Service');
  assert.equal(messages(load(svc('selector: {app: db}\n  ') + ep)).filter((m) => !m.startsWith('kind: Endpoints is kept')),
    ['kind: Endpoints db belong to Service db, which has a selector: the endpoints controller writes them; remove the selector to give the endpoints by hand']);
});

test.run();
