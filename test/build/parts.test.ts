// The build step's pure parts: remote references, a kustomization's references, and built output's origins.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { remoteKind } from '../../src/build/remote-ref.ts';
import { readKustomization } from '../../src/build/kustomization-file.ts';
import { originAt, prepareOutput } from '../../src/build/built-output.ts';

test('remote references as kustomize reads them; local paths are not', () => {
  for (const [ref, kind] of [
    ['https://github.com/org/repo//deploy?ref=v1', 'a URL'],
    ['http://example.com/x.yaml', 'a URL'],
    ['ssh://git@github.com/org/repo', 'a URL'],
    ['file:///etc/x', 'a URL'],
    ['git::https://example.com/repo', 'a git repository'],
    ['git@github.com:org/repo.git', 'a git repository'],
    ['github.com/org/repo/deploy?ref=v1', 'a remote repository'],
    ['gitlab.example.org/team/repo', 'a remote repository'],
  ]) assert.is(remoteKind(ref), kind, ref);
  for (const ref of ['../base', 'web.yaml', './overlays/prod', 'config.d/x.yaml', '..']) assert.is(remoteKind(ref), undefined, ref);
});

test('a kustomization: every path-bearing field with its position (a mapping entry at its key, as the loader reports); inline patches and plugin configs are not paths', () => {
  const k = readKustomization(`resources:
- ../base
- web.yaml
components: [../components/tls]
patches:
- path: patch.yaml
- patch: |-
    - op: replace
      path: /spec/replicas
      value: 3
patchesStrategicMerge:
- |-
  apiVersion: v1
  kind: ConfigMap
configMapGenerator:
- name: env
  files: [app.properties, key=other.txt]
  envs: [web.env]
openapi:
  path: schema.json
buildMetadata: [originAnnotations]
`, 'k.yaml');
  assert.equal(k.refs.map((r) => `${r.field}=${r.value}@${r.line}:${r.column}${r.follow ? ' follow' : ''}`), [
    'resources[0]=../base@2:3 follow',
    'resources[1]=web.yaml@3:3 follow',
    'components[0]=../components/tls@4:14 follow',
    'patches[0].path=patch.yaml@6:3',
    'configMapGenerator[0].files[0]=app.properties@17:11',
    'configMapGenerator[0].files[1]=other.txt@17:27',
    'configMapGenerator[0].envs[0]=web.env@18:10',
    'openapi.path=schema.json@20:3',
  ]);
  assert.ok(k.originAnnotations);
  assert.is(k.problem, undefined);
  assert.match(readKustomization('resources: [a\n', 'k.yaml').problem!.message, /^YAML: /);
});

const built = `apiVersion: v1
kind: ConfigMap
metadata:
  annotations:
    config.kubernetes.io/origin: |
      path: ../base/cm.yaml
    team: a
  name: a
---
apiVersion: v1
kind: ConfigMap
metadata:
  annotations:
    config.kubernetes.io/origin: |
      configuredIn: kustomization.yaml
      configuredBy:
        apiVersion: builtin
        kind: ConfigMapGenerator
  name: gen-1234
`;

test("built output: origins read per document; the annotation removed line for line, its empty map too; kept when asked", () => {
  const out = prepareOutput(built, 'overlays/prod', false);
  assert.is(out.content, `apiVersion: v1
kind: ConfigMap
metadata:
  annotations:
    team: a
  name: a
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: gen-1234
`);
  assert.equal(out.docs, [
    { from: 1, to: 6, origin: 'overlays/base/cm.yaml' },
    { from: 8, to: 11, origin: 'ConfigMapGenerator in overlays/prod/kustomization.yaml' },
  ]);
  assert.is(originAt(out, 5), 'overlays/base/cm.yaml');
  assert.is(originAt(out, 7), undefined, 'the separator belongs to no document');
  const kept = prepareOutput(built, 'overlays/prod', true);
  assert.is(kept.content, built);
  assert.is(prepareOutput('', 'x', false).content, '', 'an empty build is empty');
});

test.run();
