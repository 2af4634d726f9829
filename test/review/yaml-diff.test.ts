import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import type { KubeObject } from '../../src/model/object.ts';
import { objectKey } from '../../src/model/key.ts';
import { makePlan } from '../../src/plan/plan.ts';
import { owned } from '../../src/plan/diff.ts';
import { changeDiff } from '../../src/review/yaml-diff.ts';

// The live state of fixtures/plan/base.yaml; desired = what git holds (no server fields, no ReplicaSets).
const live = () =>
  (yaml.loadAll(readFileSync('fixtures/plan/base.yaml', 'utf8')) as KubeObject[]).filter((o) => o && o.kind !== 'ReplicaSet');
const desiredFrom = (objs: KubeObject[]) => objs.map((o) => structuredClone(owned(o)) as unknown as KubeObject);
const find = (objs: KubeObject[], kind: string) => objs.find((o) => o.kind === kind)!;
const dataOf = (o: KubeObject) => o.data as Record<string, string>;

/** The diff of every step of the plan from `l` to `desired`, by `Kind/name`. */
function diffs(desired: KubeObject[], l: KubeObject[], inventory = l.map(objectKey)): Record<string, string[]> {
  const plan = makePlan({ desired, live: l, inventory });
  const byKey = new Map(l.map((o) => [objectKey(o), o]));
  return Object.fromEntries(plan.steps.map((s) => [`${s.action} ${s.kind}/${s.name}`, changeDiff(s, byKey.get(s.key))]));
}

const deploymentPath = ['  spec:', '    template:', '      spec:', '        containers:'];

test('image change: only the image, under the path to its container', () => {
  const l = live();
  const desired = desiredFrom(l);
  find(desired, 'Deployment').spec.template.spec.containers[0].image = 'git:apps/web@2222';
  assert.equal(diffs(desired, l), {
    'update Deployment/web': [
      ...deploymentPath,
      '          - name: web',
      '-           image: git:apps/web',
      '+           image: git:apps/web@2222',
    ],
  });
});

test('replicas: a scalar shows both values', () => {
  const l = live();
  const desired = desiredFrom(l);
  find(desired, 'Deployment').spec.replicas = 5;
  assert.equal(diffs(desired, l)['update Deployment/web'], ['  spec:', '-   replicas: 3', '+   replicas: 5']);
});

test('keys with a slash (annotations) are found through the escaped patch path', () => {
  const l = live();
  const desired = desiredFrom(l);
  find(desired, 'Deployment').spec.template.metadata.annotations = { 'convergit.dev/config-checksum': 'abc' };
  assert.equal(diffs(desired, l)['update Deployment/web'], [
    '  spec:', '    template:', '      metadata:', '+       annotations:', '+         convergit.dev/config-checksum: abc',
  ]);
});

test('env added in the middle of a named list: only the new item, under its container', () => {
  const l = live();
  const desired = desiredFrom(l);
  find(desired, 'Deployment').spec.template.spec.containers[0].env.splice(1, 0, { name: 'Z', value: '0' });
  assert.equal(diffs(desired, l)['update Deployment/web'], [
    ...deploymentPath,
    '          - name: web',
    '            env:',
    '+             - name: Z',
    "+               value: '0'",
  ]);
});

test('a removed field shows only `-`; a field new to an item only `+`, the item named', () => {
  const l = live();
  const desired = desiredFrom(l);
  const [web, sidecar] = find(desired, 'Deployment').spec.template.spec.containers;
  web.env = web.env.filter((e: { name: string }) => e.name !== 'B');
  sidecar.args = ['--verbose'];
  assert.equal(diffs(desired, l)['update Deployment/web'], [
    ...deploymentPath,
    '          - name: web',
    '            env:',
    '-             - name: B',
    "-               value: '2'",
    '          - name: sidecar',
    '+           args:',
    '+             - --verbose',
  ]);
});

test('a whole container added: the item, name first', () => {
  const l = live();
  const desired = desiredFrom(l);
  find(desired, 'Deployment').spec.template.spec.containers.push({ image: 'envoy:1.30', name: 'proxy' });
  assert.equal(diffs(desired, l)['update Deployment/web'], [
    ...deploymentPath,
    '+         - name: proxy',
    '+           image: envoy:1.30',
  ]);
});

test('a reorder-only change shows the names in their old and new order', () => {
  const l = live();
  const desired = desiredFrom(l);
  find(desired, 'Deployment').spec.template.spec.containers.reverse();
  assert.equal(diffs(desired, l)['update Deployment/web'], [
    ...deploymentPath,
    '-         - name: web',
    '          - name: sidecar',
    '+         - name: web',
  ]);
  const nested = desiredFrom(l);
  find(nested, 'Deployment').spec.template.spec.containers[0].env.reverse();
  assert.equal(diffs(nested, l)['update Deployment/web'], [
    ...deploymentPath,
    '          - name: web',
    '            env:',
    '-             - name: A',
    '              - name: B',
    '+             - name: A',
  ]);
});

test('ConfigMap multi-line data diffs line by line; far unchanged lines fold into …', () => {
  const file = (changed: string) =>
    Array.from({ length: 20 }, (_, i) => (i === 10 ? changed : `line ${i}: ${'x'.repeat(i)}`)).join('\n') + '\n';
  const l = live();
  find(l, 'ConfigMap').data = { 'app.conf': file('port: 80'), other: 'same' };
  const desired = desiredFrom(l);
  dataOf(find(desired, 'ConfigMap'))['app.conf'] = file('port: 8080');
  assert.equal(diffs(desired, l)['update ConfigMap/greeting'], [
    '  data:',
    '    app.conf: |',
    '      …',
    '      line 7: xxxxxxx',
    '      line 8: xxxxxxxx',
    '      line 9: xxxxxxxxx',
    '-     port: 80',
    '+     port: 8080',
    '      line 11: xxxxxxxxxxx',
    '      line 12: xxxxxxxxxxxx',
    '      line 13: xxxxxxxxxxxxx',
    '      …',
  ]);
});

test('a one-line value becoming multi-line is a block scalar, one line each', () => {
  const l = live();
  const desired = desiredFrom(l);
  dataOf(find(desired, 'ConfigMap')).text = 'hello\nworld\n';
  assert.equal(diffs(desired, l)['update ConfigMap/greeting'], ['  data:', '-   text: hello', '+   text: |', '+     hello', '+     world']);
});

test('create and prune: the whole owned object, + or -; server fields and status left out', () => {
  const l = live();
  const desired = desiredFrom(l).filter((o) => o.kind !== 'Service');
  desired.push({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'extra', namespace: 'shop' }, data: { a: '1\n2\n' } });
  const d = diffs(desired, l);
  assert.equal(d['create ConfigMap/extra'], [
    '+ apiVersion: v1', '+ kind: ConfigMap', '+ metadata:', '+   name: extra', '+   namespace: shop', '+ data:', '+   a: |', '+     1', '+     2',
  ]);
  assert.equal(d['prune Service/web'], [
    '- apiVersion: v1', '- kind: Service', '- metadata:', '-   name: web', '-   namespace: shop', '- spec:', '-   selector:',
    '-     app: web', '-   ports:', '-     - port: 80', '-       targetPort: 8080', '-       protocol: TCP', '-   type: ClusterIP',
  ]);
});

const secret = (data: Record<string, string>, stringData?: Record<string, string>): KubeObject => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'shop' }, type: 'Opaque', data, ...(stringData ? { stringData } : {}),
});
const b64 = (s: string) => Buffer.from(s).toString('base64');

test('Secret values are never printed: their size instead, and a change of the same size still shows', () => {
  const created = diffs([secret({ password: b64('hunter2') }, { user: 'admin' })], []);
  assert.equal(created['create Secret/db'].slice(-4), ['+ data:', '+   password: (hidden, 7 bytes)', '+ stringData:', '+   user: (hidden, 5 bytes)']);
  const l = [secret({ password: b64('hunter2'), user: b64('admin') })];
  const updated = diffs([secret({ password: b64('hunter3'), user: b64('admin') })], l);
  assert.equal(updated['update Secret/db'], ['  data:', '-   password: (hidden, 7 bytes)', '+   password: (hidden, 7 bytes, changed)']);
  const pruned = diffs([], l);
  const all = JSON.stringify([created, updated, pruned]);
  for (const v of ['hunter', b64('hunter2'), b64('hunter3'), 'admin', b64('admin')]) assert.not.ok(all.includes(v), v);
  assert.ok(pruned['prune Secret/db'].includes('-   user: (hidden, 5 bytes)'));
});

test('an update needs the live object', () => {
  const l = live();
  const desired = desiredFrom(l);
  find(desired, 'Deployment').spec.replicas = 5;
  const [step] = makePlan({ desired, live: l, inventory: l.map(objectKey) }).steps;
  assert.throws(() => changeDiff(step), /needs the live object/);
});

test.run();
