import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { CONFIG_CHECKSUM, stampConfigChecksums } from '../../src/sync/config-checksum.ts';
import { deepFreeze } from '../../src/model/deep-freeze.ts';

const cm = (name: string, data: Record<string, string>, namespace = 'default'): KubeObject =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace }, data });
const secret = (name: string, data: Record<string, string>): KubeObject =>
  ({ apiVersion: 'v1', kind: 'Secret', metadata: { name, namespace: 'default' }, data });
const deploy = (container: Record<string, unknown>, kind = 'Deployment'): KubeObject => ({
  apiVersion: 'apps/v1', kind, metadata: { name: 'web', namespace: 'default' },
  spec: { template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'x', ...container }] } } },
});
const sumOf = (objs: KubeObject[]) => {
  stampConfigChecksums(objs);
  return objs.find((o) => o.kind === 'Deployment' || o.kind === 'ReplicaSet')!.spec.template.metadata.annotations?.[CONFIG_CHECKSUM] as string | undefined;
};
const reads = { envFrom: [{ configMapRef: { name: 'greeting' } }], env: [{ name: 'K', valueFrom: { secretKeyRef: { name: 'creds', key: 'k' } } }] };

test('the checksum follows the data of what the template reads, and only that', () => {
  const base = sumOf([cm('greeting', { G: 'hello' }), secret('creds', { k: 'YQ==' }), cm('other', { x: '1' }), deploy(reads)]);
  assert.match(base!, /^[0-9a-f]{16}$/);
  assert.is(sumOf([cm('greeting', { G: 'hello' }), secret('creds', { k: 'YQ==' }), cm('other', { x: '2' }), deploy(reads)]), base, 'unread ConfigMaps do not matter');
  assert.is.not(sumOf([cm('greeting', { G: 'bonjour' }), secret('creds', { k: 'YQ==' }), deploy(reads)]), base);
  assert.is.not(sumOf([cm('greeting', { G: 'hello' }), secret('creds', { k: 'Yg==' }), deploy(reads)]), base);
  assert.is(sumOf([secret('creds', { k: 'YQ==' }), deploy(reads), cm('greeting', { G: 'hello' })]), base, 'order does not matter');
  assert.is.not(sumOf([cm('greeting', { G: 'hello' }, 'other'), secret('creds', { k: 'YQ==' }), deploy(reads)]), base, 'same name in another namespace is not read');
});

test('ReplicaSets are stamped too; templates reading nothing and bare Pods are left alone', () => {
  assert.ok(sumOf([cm('greeting', { G: 'hello' }), deploy({ envFrom: [{ configMapRef: { name: 'greeting' } }] }, 'ReplicaSet')]));
  const plain = deploy({});
  stampConfigChecksums([cm('greeting', { G: 'hello' }), plain]);
  assert.equal(plain.spec.template.metadata, { labels: { app: 'web' } });
  const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' }, spec: { containers: [{ name: 'c', envFrom: [{ configMapRef: { name: 'greeting' } }] }] } };
  stampConfigChecksums([cm('greeting', { G: 'hello' }), pod]);
  assert.is(pod.metadata.annotations, undefined);
});

test('a frozen (shared) workload gets a frozen stamped copy, the same for the same checksum, sharing its pod spec', () => {
  const original = deepFreeze(deploy(reads));
  const before = JSON.stringify(original);
  const objects = [cm('greeting', { G: 'hello' }), secret('creds', { k: 'YQ==' }), original];
  stampConfigChecksums(objects);
  const copy = objects[2];
  assert.is.not(copy, original);
  assert.is(JSON.stringify(original), before, 'the original is left as it was');
  assert.ok(Object.isFrozen(copy) && Object.isFrozen(copy.spec.template.metadata.annotations), 'the copy is frozen too');
  assert.match(copy.spec.template.metadata.annotations[CONFIG_CHECKSUM], /^[0-9a-f]{16}$/);
  assert.equal(copy.spec.template.metadata.labels, { app: 'web' });
  assert.is(copy.spec.template.spec, original.spec.template.spec, 'the pod spec is shared, not copied');
  assert.is(copy.metadata, original.metadata);
  const again = [cm('greeting', { G: 'hello' }), secret('creds', { k: 'YQ==' }), original];
  stampConfigChecksums(again);
  assert.is(again[2], copy, 'the same checksum: the same copy (an unchanged object keeps its identity)');
  const changed = [cm('greeting', { G: 'bonjour' }), secret('creds', { k: 'YQ==' }), original];
  stampConfigChecksums(changed);
  assert.is.not(changed[2].spec.template.metadata.annotations[CONFIG_CHECKSUM], copy.spec.template.metadata.annotations[CONFIG_CHECKSUM]);
});

test.run();
