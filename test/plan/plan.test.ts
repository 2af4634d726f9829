import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync } from 'node:fs';
import * as yaml from 'js-yaml';
import type { KubeObject } from '../../src/model/object.ts';
import { objectKey } from '../../src/model/key.ts';
import { makePlan } from '../../src/plan/plan.ts';
import { diff, owned } from '../../src/plan/diff.ts';

const live = () => (yaml.loadAll(readFileSync('fixtures/plan/base.yaml', 'utf8')) as KubeObject[]).filter(Boolean);
/** Desired = what git holds: the live objects minus server fields, minus controller-made ones. */
const desiredFrom = (objs: KubeObject[]) =>
  objs.filter((o) => o.kind !== 'ReplicaSet').map((o) => structuredClone(owned(o)) as unknown as KubeObject);
const inventoryOf = (objs: KubeObject[]) => objs.filter((o) => o.kind !== 'ReplicaSet').map(objectKey);
const find = (objs: KubeObject[], kind: string) => objs.find((o) => o.kind === kind)!;
const summary = (p: ReturnType<typeof makePlan>) => p.steps.map((s) => `${s.action} ${s.kind}/${s.name}`);

test('same desired as live: nothing to do, controller-made objects left alone', () => {
  const l = live();
  const plan = makePlan({ desired: desiredFrom(l), live: l, inventory: inventoryOf(l) });
  assert.equal(plan.steps, []);
  assert.equal([plan.create, plan.update, plan.prune, plan.unchanged], [0, 0, 0, 4]);
});

test('first apply: every object created, in dependency order', () => {
  const l = live();
  const plan = makePlan({ desired: desiredFrom(l).reverse(), live: [], inventory: [] });
  assert.equal(summary(plan), ['create Namespace/shop', 'create ConfigMap/greeting', 'create Service/web', 'create Deployment/web']);
  assert.equal(plan.inventory, inventoryOf(l).sort());
});

test('an update carries a patch of only the changed fields', () => {
  const l = live();
  const desired = desiredFrom(l);
  find(desired, 'Deployment').spec.replicas = 5;
  find(desired, 'ConfigMap').data = { text: 'bonjour' };
  const plan = makePlan({ desired, live: l, inventory: inventoryOf(l) });
  assert.equal(summary(plan), ['update ConfigMap/greeting', 'update Deployment/web']);
  assert.equal(plan.steps[1].patch, [{ op: 'replace', path: '/spec/replicas', value: 5 }]);
  assert.equal(plan.steps[0].patch, [{ op: 'replace', path: '/data/text', value: 'bonjour' }]);
});

test('named lists are keyed: an insertion names the item, a pure reorder is still a change', () => {
  const l = live();
  const desired = desiredFrom(l);
  const containers = find(desired, 'Deployment').spec.template.spec.containers;
  containers[0].env.unshift({ name: 'Z', value: '0' });
  let ops = diff(find(desired, 'Deployment'), find(l, 'Deployment'));
  assert.equal(ops, [{ op: 'add', path: '/spec/template/spec/containers/web/env/Z', value: { name: 'Z', value: '0' } }]);
  containers[0].env.shift();
  containers.reverse();
  ops = diff(find(desired, 'Deployment'), find(l, 'Deployment'));
  assert.ok(ops.length > 0, 'reorder detected');
  assert.ok(ops.every((o) => o.path.startsWith('/spec/template/spec/containers/')));
});

test('status and server-set metadata never count as changes', () => {
  const l = live();
  const d = find(desiredFrom(l), 'Deployment');
  const liveDep = find(l, 'Deployment');
  liveDep.status = { replicas: 1 };
  liveDep.metadata.resourceVersion = '99';
  assert.equal(diff(d, liveDep), []);
});

test('prune: only what git applied, in reverse order; controller-made objects never pruned', () => {
  const l = live();
  const desired = desiredFrom(l).filter((o) => o.kind === 'Namespace');
  const plan = makePlan({ desired, live: l, inventory: inventoryOf(l) });
  assert.equal(summary(plan), ['prune Deployment/web', 'prune Service/web', 'prune ConfigMap/greeting']);
  assert.equal(plan.inventory, ['v1/Namespace//shop']);
});

test('sync waves order before kinds', () => {
  const l = live();
  const desired = desiredFrom(l);
  find(desired, 'Deployment').metadata.annotations = { 'convergit.io/sync-wave': '-1' };
  const plan = makePlan({ desired, live: [], inventory: [] });
  assert.equal(summary(plan)[0], 'create Deployment/web');
});

test.run();
