// CustomResourceDefinitions register kinds; custom resources validate against their structural schemas.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { brief } from './helpers.ts';

const CRD = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: crontabs.stable.example.com}
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct], categories: [all]}
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              x-kubernetes-validations:
                - rule: self.minReplicas <= self.replicas
                  message: replicas must be at least minReplicas
              properties:
                cronSpec: {type: string, pattern: '^(\\S+ ){4}\\S+$'}
                image: {type: string}
                replicas: {type: integer, default: 1, minimum: 0}
                minReplicas: {type: integer, default: 0}
                mode: {type: string, enum: [Fast, Slow]}
                port: {x-kubernetes-int-or-string: true}
                extra: {type: object, x-kubernetes-preserve-unknown-fields: true}
              required: [cronSpec]
            status: {type: object, x-kubernetes-preserve-unknown-fields: true}
`;
const cr = (spec: string) => `apiVersion: stable.example.com/v1\nkind: CronTab\nmetadata: {name: t}\nspec:\n${spec}`;
const files = (...docs: string[]) => docs.map((content, i) => ({ path: `${i}.yaml`, content }));

test('a custom resource in the same commit as its CRD validates, with defaults applied', () => {
  const r = loadManifests(files(CRD, cr('  cronSpec: "* * * * */5"\n  port: http\n  extra: {anything: [1, 2]}\n')));
  assert.equal(r.issues.filter((i) => i.severity === 'error'), []);
  const obj = r.objects.find((o) => o.object.kind === 'CronTab')!.object;
  assert.equal([obj.spec.replicas, obj.spec.minReplicas, obj.metadata.namespace], [1, 0, 'default']);
  assert.ok(r.issues.some((i) => i.severity === 'warning' && /CronTab is kept, not run: .*no controller for CronTab/.test(i.message)));
});

test('errors in a custom resource are positioned: unknown fields with suggestions, enums, types, required, patterns, CEL', () => {
  const r = loadManifests(files(CRD, cr('  cronspec: "* * * * *"\n  mode: Medium\n  replicas: many\n  image: {}\n')));
  assert.equal(brief(r).filter((l) => l.startsWith('error')), [
    'error 5:3 spec.cronspec: unknown field "cronspec"; did you mean "cronSpec"?',
    'error 6:3 spec.mode: must be one of Fast, Slow',
    'error 7:3 spec.replicas: must be an integer',
    'error 8:3 spec.image: must be a string',
  ]);
  const cel = loadManifests(files(CRD, cr('  cronSpec: "* * * * *"\n  replicas: 1\n  minReplicas: 3\n')));
  assert.equal(brief(cel).filter((l) => l.startsWith('error')), ['error 4:1 spec: replicas must be at least minReplicas']);
  const pattern = loadManifests(files(CRD, cr('  cronSpec: "every minute"\n')));
  assert.match(brief(pattern).join('\n'), 'spec.cronSpec: must match pattern');
});

test('a custom resource without its CRD is refused, naming the missing CRD', () => {
  const r = loadManifests(files(cr('  cronSpec: "* * * * *"\n')));
  assert.equal(brief(r), ['error 2:1 kind: unknown kind "CronTab"; did you mean "CronJob"?: not a Kubernetes 1.32 kind, and no CustomResourceDefinition for CronTab in group stable.example.com is in this commit or applied']);
});

test('an applied CRD validates resources of later commits; removing a git-owned CRD while its resources stay is refused', () => {
  const crd = loadManifests(files(CRD)).objects[0].object as KubeObject;
  const later = loadManifests(files(cr('  cronSpec: "* * * * *"\n')), { appliedCrds: [{ object: crd, fromGit: false }] });
  assert.equal(later.issues.filter((i) => i.severity === 'error'), []);
  const removed = loadManifests(files(cr('  cronSpec: "* * * * *"\n')), { appliedCrds: [{ object: crd, fromGit: true }] });
  assert.match(brief(removed)[0], 'its CustomResourceDefinition crontabs.stable.example.com is removed by this commit');
});

test('a schema change in the CRD applies to the resources of the same commit', () => {
  const narrowed = CRD.replace('enum: [Fast, Slow]', 'enum: [Fast]');
  const r = loadManifests(files(narrowed, cr('  cronSpec: "* * * * *"\n  mode: Slow\n')));
  assert.equal(brief(r).filter((l) => l.startsWith('error')), ['error 6:3 spec.mode: must be one of Fast']);
});

test.run();
