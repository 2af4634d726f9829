import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import { fixture } from './helpers.ts';

test('kinds and apiVersions: unsupported, wrong, created by convergit, missing', () => {
  const r = loadManifests(fixture('errors/kinds.yaml'));
  const SUPPORTED = 'supported: Namespace, ConfigMap, Secret, Service, Pod, Deployment, ReplicaSet';
  assert.equal(r.issues.map((i) => `${i.line}:${i.column} ${i.kind ?? '-'}/${i.name ?? '-'} ${i.field}: ${i.message}`), [
    '1:1 Deployment/wrong-api apiVersion: must be "apps/v1" for Deployment, not "v1"',
    `7:1 CronJob/unsupported kind: unsupported kind "CronJob" (${SUPPORTED})`,
    `12:1 deployment/lower-case kind: unsupported kind "deployment"; did you mean "Deployment"? (${SUPPORTED})`,
    '17:1 Event/ev kind: Event objects are created by convergit and cannot be committed',
    '21:1 ConfigMap/no-api apiVersion: is required ("v1" for ConfigMap)',
    '25:1 -/no-kind kind: is required',
    '31:1 ConfigMap/- metadata.name: is required',
    '34:1 -/- : a manifest must be a mapping with apiVersion, kind and metadata',
  ]);
  assert.ok(r.issues.every((i) => i.severity === 'error'));
  assert.equal(r.objects, []);
});

test.run();
