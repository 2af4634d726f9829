import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { parseSelector } from '../../src/model/selector.ts';
import { StoreError } from '../../src/store/store.ts';
import { deepFreeze } from '../../src/model/deep-freeze.ts';
import { openStore } from '../../src/store/lowdb-store.ts';
import { clock, cm, freshStore, names, pod, cleanup } from './helpers.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

async function rejects(p: Promise<unknown>, reason: StoreError['reason'], message: RegExp): Promise<void> {
  try {
    await p;
  } catch (err) {
    assert.instance(err, StoreError);
    assert.is((err as StoreError).reason, reason);
    assert.match((err as StoreError).message, message);
    return;
  }
  assert.unreachable(`expected StoreError ${reason}`);
}

test.after.each(cleanup);

test('create sets server metadata, defaults the namespace and keeps ownerReferences', async () => {
  const { store } = await freshStore({ now: clock().now });
  const owner = { apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'web-1', uid: 'u-1', controller: true };
  const created = await store.create(cm('a', { k: 'v' }, { ownerReferences: [owner], resourceVersion: '99', uid: 'mine' }));
  assert.match(created.metadata.uid!, UUID);
  assert.equal(created, {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: 'a', ownerReferences: [owner], namespace: 'default', uid: created.metadata.uid, generation: 1, creationTimestamp: '2024-05-01T10:00:00Z', resourceVersion: '1' },
    data: { k: 'v' },
  });
  assert.equal(await store.get('ConfigMap', 'default', 'a'), created);
  assert.equal(await store.get('ConfigMap', undefined, 'a'), created, 'namespace defaults to default on get too');
  assert.is(await store.resourceVersion(), '1');
  await store.close();
});

test('what the loader froze is kept, not copied, below the top two levels; the object reads back the same after a restart', async () => {
  const { store, dir } = await freshStore({ now: clock().now });
  const template = deepFreeze({ metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } });
  const given = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: deepFreeze({ replicas: 1, selector: { matchLabels: { app: 'web' } }, template }) } as KubeObject;
  const created = await store.create(given, { shared: true });
  assert.is(created.spec.template, template, 'the frozen template is the stored one');
  assert.is.not(created.spec, given.spec, 'spec is the store\'s own');
  const [listed] = await store.list('Deployment', { namespace: 'default', shared: true });
  assert.is(listed.spec.template, template);
  const copy = await store.get('Deployment', 'default', 'web');
  assert.is.not(copy!.spec.template, template, 'readers without `shared` get copies');
  // An update with a new frozen template keeps that one; the object reads back equal after a restart.
  const next = deepFreeze({ ...template, spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } });
  const updated = await store.update({ ...given, spec: deepFreeze({ ...given.spec, template: next }) }, { shared: true });
  assert.is(updated.spec.template, next);
  assert.is(updated.metadata.generation, 2);
  await store.close();
  const reopened = await openStore(dir);
  assert.equal(await reopened.get('Deployment', 'default', 'web'), JSON.parse(JSON.stringify(updated)));
  await reopened.close();
});

test('cluster-scoped kinds have no namespace', async () => {
  const { store } = await freshStore();
  const ns = await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a', namespace: 'ignored' } });
  assert.is(ns.metadata.namespace, undefined);
  assert.is((await store.get('Namespace', undefined, 'team-a'))?.metadata.uid, ns.metadata.uid);
  assert.is((await store.get('Namespace', 'whatever', 'team-a'))?.metadata.uid, ns.metadata.uid);
  assert.equal(names(await store.list('Namespace', { namespace: 'x' })), ['team-a']);
  await store.close();
});

test('errors: AlreadyExists, NotFound, Invalid', async () => {
  const { store } = await freshStore();
  await store.create(cm('a'));
  await rejects(store.create(cm('a')), 'AlreadyExists', /ConfigMap default\/a already exists/);
  await rejects(store.update(cm('missing')), 'NotFound', /ConfigMap default\/missing not found/);
  await rejects(store.updateStatus('Pod', 'default', 'nope', {}), 'NotFound', /Pod default\/nope not found/);
  await rejects(store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: '' } }), 'Invalid', /metadata.name/);
  await rejects(store.create({ kind: 'ConfigMap', metadata: { name: 'x' } } as KubeObject), 'Invalid', /apiVersion and kind/);
  await rejects(store.create({ ...cm('big'), data: { n: 1n } as unknown as Record<string, string> }), 'Invalid', /not JSON/);
  assert.is(await store.delete('ConfigMap', 'default', 'missing'), undefined);
  assert.is(await store.resourceVersion(), '1', 'failed calls change nothing');
  await store.close();
});

test('update bumps generation only when the body changes; keeps uid, creationTimestamp and status', async () => {
  const c = clock();
  const { store } = await freshStore({ now: c.now });
  const created = await store.create(pod('p', { app: 'web' }));
  await store.updateStatus('Pod', 'default', 'p', { phase: 'Running' });
  c.advance(5000);

  // Labels only: metadata change, same generation.
  const relabelled = await store.update({ ...pod('p', { app: 'web', tier: 'fe' }), status: { phase: 'Lies' } });
  assert.is(relabelled.metadata.generation, 1);
  assert.is(relabelled.metadata.resourceVersion, '3');
  assert.equal(relabelled.status, { phase: 'Running' }, 'update ignores the status it is given');
  assert.is(relabelled.metadata.uid, created.metadata.uid);
  assert.is(relabelled.metadata.creationTimestamp, '2024-05-01T10:00:00Z');

  // Spec change: generation 2, caller-sent server fields ignored.
  const p = pod('p', { app: 'web', tier: 'fe' });
  p.spec.containers[0].image = 'y';
  p.metadata.uid = 'forged';
  p.metadata.generation = 40;
  const respecced = await store.update(p);
  assert.is(respecced.metadata.generation, 2);
  assert.is(respecced.metadata.uid, created.metadata.uid);
  assert.is(respecced.metadata.resourceVersion, '4');
  assert.equal(respecced.spec.containers[0].image, 'y');

  // Non-spec body (ConfigMap data) counts too.
  await store.create(cm('c', { a: '1' }));
  assert.is((await store.update(cm('c', { a: '2' }))).metadata.generation, 2);
  await store.close();
});

test('updateStatus changes only status and never generation', async () => {
  const { store } = await freshStore();
  await store.create(pod('p', {}));
  const s1 = await store.updateStatus('Pod', undefined, 'p', { phase: 'Pending' });
  assert.equal(s1.status, { phase: 'Pending' });
  assert.is(s1.metadata.generation, 1);
  assert.is(s1.metadata.resourceVersion, '2');
  assert.equal(s1.spec, pod('p', {}).spec);
  const same = await store.updateStatus('Pod', undefined, 'p', { phase: 'Pending' });
  assert.is(same.metadata.resourceVersion, '2', 'same status: no new version');
  const cleared = await store.updateStatus('Pod', undefined, 'p', undefined);
  assert.not.ok('status' in cleared);
  assert.is(cleared.metadata.resourceVersion, '3');
  await store.close();
});

test('resourceVersion: Conflict on mismatch, accepted when it matches, optional', async () => {
  const { store } = await freshStore();
  const v1 = await store.create(cm('a', { x: '1' }));
  const v2 = await store.update({ ...v1, data: { x: '2' } });
  assert.is(v2.metadata.resourceVersion, '2');
  await rejects(store.update({ ...v1, data: { x: 'stale' } }), 'Conflict', /resourceVersion 1 does not match 2/);
  const v3 = await store.update(cm('a', { x: '3' }));
  assert.is(v3.metadata.resourceVersion, '3');
  assert.equal((await store.get('ConfigMap', 'default', 'a'))?.data, { x: '3' });
  await store.close();
});

test('an update that changes nothing keeps the version and returns the stored object', async () => {
  const { store } = await freshStore();
  const v1 = await store.create(cm('a', { x: '1' }, { labels: { l: '1' } }));
  const again = await store.update(cm('a', { x: '1' }, { labels: { l: '1' } }));
  assert.equal(again, v1);
  const roundTrip = await store.update(v1);
  assert.equal(roundTrip, v1);
  assert.is(await store.resourceVersion(), '1');
  await store.close();
});

test('update with a status writes body and status as one version; shared writes return the stored object', async () => {
  const { store } = await freshStore();
  await store.create(pod('p', {}));
  const cur = (await store.get('Pod', 'default', 'p'))!;
  const seen: string[] = [];
  const stop = await store.watch({ kind: 'Pod' }, (e) => seen.push(`${e.type} ${e.object.spec.nodeName} ${e.object.status?.phase}`));
  const bound = await store.update({ ...cur, spec: { ...cur.spec, nodeName: 'n1' } }, { status: { phase: 'Pending' }, shared: true });
  assert.is(bound.spec.nodeName, 'n1');
  assert.equal(bound.status, { phase: 'Pending' });
  assert.is(Number(bound.metadata.resourceVersion), Number(cur.metadata.resourceVersion) + 1);
  assert.equal(seen, ['MODIFIED n1 Pending']);
  // Shared: the stored object itself; a later read returns an equal copy.
  assert.ok(Object.is(bound, await store.get('Pod', 'default', 'p', { shared: true })));
  // A stale resourceVersion is still a Conflict, and writes nothing.
  await rejects(store.update({ ...cur, spec: { ...cur.spec, nodeName: 'n2' } }, { status: { phase: 'Running' } }), 'Conflict', /does not match/);
  assert.equal((await store.get('Pod', 'default', 'p'))!.status, { phase: 'Pending' });
  // Without `status`, the status is kept as before.
  const again = await store.update({ ...bound, metadata: { ...bound.metadata, labels: { a: 'b' } } });
  assert.equal(again.status, { phase: 'Pending' });
  assert.not.ok(Object.is(again, await store.get('Pod', 'default', 'p', { shared: true })));
  stop();
  await store.close();
});

test('bindPods: each binding one version and one event, failing alone (NotFound, Conflict on uid, version, bound or deleting)', async () => {
  const { store } = await freshStore();
  for (const n of ['a', 'b', 'c', 'd', 'e']) await store.create(pod(n, {}));
  const read = async (n: string) => (await store.get('Pod', 'default', n))!;
  const [a, b, c, d, e] = await Promise.all(['a', 'b', 'c', 'd', 'e'].map(read));
  await store.update({ ...c, metadata: { ...c.metadata, labels: { changed: 'yes' } } }); // c's read is now stale
  await store.delete('Pod', 'default', 'd'); // unbound: deleted at once
  const seen: string[] = [];
  const stop = await store.watch({ kind: 'Pod' }, (ev) => seen.push(`${ev.type} ${ev.object.metadata.name} ${ev.object.spec.nodeName} ${ev.object.status?.phase}`));
  const binding = (o: KubeObject, node: string, more: object = {}) =>
    ({ namespace: 'default', name: o.metadata.name, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, nodeName: node, status: { phase: 'Pending' }, ...more });
  const results = await store.bindPods([binding(a, 'n1'), binding(b, 'n2', { uid: 'other' }), binding(c, 'n1'), binding(d, 'n1'), binding(e, 'n2', { resourceVersion: undefined })]);
  assert.is((results[0] as KubeObject).spec.nodeName, 'n1');
  assert.ok(Object.is(results[0], await store.get('Pod', 'default', 'a', { shared: true })), 'the stored pod itself');
  assert.is(Number((results[0] as KubeObject).metadata.resourceVersion), Number(e.metadata.resourceVersion) + 3, 'after the label change and the delete');
  assert.equal((results[0] as KubeObject).metadata.labels, {});
  const reasons = results.map((r) => (r instanceof StoreError ? `${r.reason}: ${r.message}` : 'bound'));
  assert.match(reasons[1], /^Conflict: .*uid other does not match/);
  assert.match(reasons[2], /^Conflict: .*resourceVersion .* does not match/);
  assert.match(reasons[3], /^NotFound/);
  assert.is(reasons[4], 'bound', 'no resourceVersion: no precondition on it');
  assert.equal(seen, ['MODIFIED a n1 Pending', 'MODIFIED e n2 Pending']);
  // A pod already bound is a Conflict, as kube-apiserver's "already assigned".
  const [again] = await store.bindPods([binding(await read('e'), 'n1')]);
  assert.match(String(again), /already assigned to node "n2"/);
  stop();
  await store.close();
});

test('returned objects are copies both ways', async () => {
  const { store } = await freshStore();
  const input = cm('a', { x: '1' });
  const created = await store.create(input);
  input.data = { x: 'mutated input' };
  created.data = { x: 'mutated result' };
  created.metadata.labels = { evil: 'yes' };
  const got = (await store.get('ConfigMap', 'default', 'a'))!;
  assert.equal(got.data, { x: '1' });
  got.metadata.name = 'renamed';
  (got.data as Record<string, string>).x = 'deep';
  const listed = await store.list('ConfigMap');
  assert.equal(listed.map((o) => [o.metadata.name, o.data]), [['a', { x: '1' }]]);
  listed[0].metadata.labels = { l: '1' };
  assert.equal(await store.list('ConfigMap', { labelSelector: parseSelector('l=1') }), []);
  await store.close();
});

test('delete returns the last state with the deletion version', async () => {
  const { store } = await freshStore();
  await store.create(cm('a', { x: '1' }));
  const gone = await store.delete('ConfigMap', undefined, 'a');
  assert.equal(gone?.data, { x: '1' });
  assert.is(gone?.metadata.resourceVersion, '2');
  assert.is(await store.get('ConfigMap', 'default', 'a'), undefined);
  assert.equal(await store.list('ConfigMap'), []);
  await store.create(cm('a', { x: 'again' }));
  assert.is((await store.get('ConfigMap', 'default', 'a'))?.metadata.generation, 1);
  await store.close();
});

test('list by namespace, across namespaces, sorted by namespace then name', async () => {
  const { store } = await freshStore();
  await store.create(pod('b', {}, 'prod'));
  await store.create(pod('a', {}, 'prod'));
  await store.create(pod('z', {}, 'dev'));
  await store.create(pod('m', {}));
  await store.create(cm('a'));
  assert.equal(names(await store.list('Pod')), ['default/m', 'dev/z', 'prod/a', 'prod/b']);
  assert.equal(names(await store.list('Pod', { namespace: 'prod' })), ['prod/a', 'prod/b']);
  assert.equal(names(await store.list('Pod', { namespace: 'empty' })), []);
  assert.equal(names(await store.list('Secret')), []);
  assert.equal(names(await store.list('ConfigMap')), ['default/a']);
  await store.close();
});

test('list by label selector: equality, set, exists, not; the label index follows updates and deletes', async () => {
  const { store } = await freshStore();
  await store.create(pod('web-1', { app: 'web', env: 'prod' }));
  await store.create(pod('web-2', { app: 'web', env: 'dev' }));
  await store.create(pod('web-3', { app: 'web', env: 'prod' }, 'other'));
  await store.create(pod('db-1', { app: 'db', env: 'prod', legacy: 'true' }));
  await store.create(pod('bare', {}));
  const sel = async (s: string, namespace?: string) => names(await store.list('Pod', { labelSelector: parseSelector(s), namespace }));

  assert.equal(await sel('app=web'), ['default/web-1', 'default/web-2', 'other/web-3']);
  assert.equal(await sel('app=web', 'default'), ['default/web-1', 'default/web-2']);
  assert.equal(await sel('app=web,env=prod'), ['default/web-1', 'other/web-3']);
  assert.equal(await sel('env in (dev, prod),app!=web'), ['default/db-1']);
  assert.equal(await sel('app notin (web)'), ['default/bare', 'default/db-1']);
  assert.equal(await sel('legacy'), ['default/db-1']);
  assert.equal(await sel('!legacy,app'), ['default/web-1', 'default/web-2', 'other/web-3']);
  assert.equal(await sel('app=nothing'), []);
  assert.equal(await sel('app=web,env=staging'), []);

  await store.update(pod('web-1', { app: 'api', env: 'prod' }));
  await store.delete('Pod', 'other', 'web-3');
  assert.equal(await sel('app=web'), ['default/web-2']);
  assert.equal(await sel('app=api'), ['default/web-1']);
  assert.equal(await sel('env=prod'), ['default/db-1', 'default/web-1']);
  await store.close();
});

test('writes after close are refused', async () => {
  const { store } = await freshStore();
  await store.close();
  await store.close(); // twice is fine
  try {
    await store.create(cm('late'));
    assert.unreachable('create after close');
  } catch (err) {
    assert.match((err as Error).message, /is closed/);
  }
});

test.run();
