import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Informer } from '../../src/store/informer.ts';
import { matchesSelector } from '../../src/model/selector.ts';
import { cm, freshStore, cleanup } from './helpers.ts';

test.after.each(cleanup);

test('lists what exists, then follows changes; handlers see adds, updates and deletes once each', async () => {
  const { store } = await freshStore();
  await store.create(cm('a', { v: '1' }));
  const seen: string[] = [];
  const inf = new Informer(store, 'ConfigMap').on({
    add: (o) => seen.push(`add ${o.metadata.name}`),
    update: (old, o) => seen.push(`update ${o.metadata.name} ${(old.data as any).v}→${(o.data as any).v}`),
    delete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  await inf.start();
  assert.ok(inf.hasSynced);
  await store.create(cm('b', { v: '1' }, { namespace: 'other' }));
  await store.update({ ...cm('a', { v: '2' }) });
  await store.delete('ConfigMap', 'default', 'a');
  await store.create(cm('s', {}, {}));
  assert.equal(seen, ['add a', 'add b', 'update a 1→2', 'delete a', 'add s']);
  assert.equal(inf.list('other').map((o) => o.metadata.name), ['b']);
  assert.is(inf.get(undefined, 's')?.metadata.name, 's', 'namespace defaults like the store');
  assert.is(inf.get('default', 'a'), undefined);
  inf.stop();
  await store.create(cm('late'));
  assert.is(inf.get('default', 'late'), undefined, 'stopped informers do not change');
});

test('only its kind, and the label selector when given', async () => {
  const { store } = await freshStore();
  const { parseSelector } = await import('../../src/model/selector.ts');
  const inf = new Informer(store, 'ConfigMap', { labelSelector: parseSelector('app=web') });
  await inf.start();
  await store.create(cm('web', {}, { labels: { app: 'web' } }));
  await store.create(cm('db', {}, { labels: { app: 'db' } }));
  await store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'web', labels: { app: 'web' } } });
  assert.equal(inf.list().map((o) => `${o.kind}/${o.metadata.name}`), ['ConfigMap/web']);
});

test('indexes follow adds, updates that move an object, and deletes; one added late covers the cache', async () => {
  const { store } = await freshStore();
  await store.create(cm('a', { team: 'x' }));
  const inf = new Informer(store, 'ConfigMap');
  await inf.start();
  inf.addIndex('team', (o) => [(o.data as any)?.team ?? 'none']);
  inf.addIndex('team', () => ['ignored']); // the first of a name stays
  await store.create(cm('b', { team: 'x' }));
  await store.create(cm('c', { team: 'y' }));
  const by = (v: string) => inf.byIndex('team', v).map((o) => o.metadata.name).sort();
  assert.equal([by('x'), by('y')], [['a', 'b'], ['c']]);
  const b = (await store.get('ConfigMap', 'default', 'b'))!;
  await store.update({ ...b, data: { team: 'y' } });
  assert.equal([by('x'), by('y')], [['a'], ['b', 'c']]);
  await store.delete('ConfigMap', 'default', 'c');
  assert.equal([by('x'), by('y'), by('ignored')], [['a'], ['b'], []]);
  assert.throws(() => inf.byIndex('nope', 'x'), /no index nope/);
});

test('an index value with one object: updated in place, joined by a second in order, left, moved', async () => {
  const { store } = await freshStore();
  const inf = new Informer(store, 'ConfigMap');
  await inf.start();
  inf.addIndex('team', (o) => [(o.data as any)?.team ?? 'none']);
  const by = (v: string) => inf.byIndex('team', v).map((o) => `${o.metadata.name}:${(o.data as any).v}`);
  await store.create(cm('z', { team: 's', v: '1' }));
  await store.update({ ...cm('z', { team: 's', v: '2' }) });
  assert.equal(by('s'), ['z:2']);
  await store.create(cm('a', { team: 's', v: '1' }));
  assert.equal(by('s'), ['z:2', 'a:1'], 'in the order they came, not sorted');
  await store.update({ ...cm('z', { team: 's', v: '3' }) });
  assert.equal(by('s'), ['z:3', 'a:1'], 'an update keeps its place');
  await store.delete('ConfigMap', 'default', 'z');
  assert.equal(by('s'), ['a:1']);
  await store.update({ ...cm('a', { team: 't', v: '2' }) });
  assert.equal([by('s'), by('t')], [[], ['a:2']]);
  await store.create(cm('b', { team: 'u', v: '1' }));
  await store.delete('ConfigMap', 'default', 'b');
  await store.delete('ConfigMap', 'default', 'a');
  assert.equal([by('t'), by('u')], [[], []]);
});

test('a namespace lists its own objects from the namespace index, in the order they came; an update keeps its place', async () => {
  const { store } = await freshStore();
  const inf = new Informer(store, 'ConfigMap');
  await inf.start();
  for (const [name, ns] of [['a', 'x'], ['b', 'y'], ['c', 'x'], ['d', 'x']]) await store.create(cm(name, { v: '1' }, { namespace: ns }));
  await store.update({ ...cm('a', { v: '2' }, { namespace: 'x' }) });
  await store.delete('ConfigMap', 'x', 'c');
  assert.equal(inf.list('x').map((o) => `${o.metadata.name}:${(o.data as any).v}`), ['a:2', 'd:1']);
  assert.equal(inf.list('y').map((o) => o.metadata.name), ['b']);
  assert.equal(inf.list('none'), []);
  assert.equal(inf.list().map((o) => o.metadata.name), ['a', 'b', 'd']);
});

test('withLabels: the objects of a namespace carrying every label asked, kept as labels change and objects go', async () => {
  const { store } = await freshStore();
  const inf = new Informer(store, 'ConfigMap');
  await inf.start();
  const labelled = (name: string, labels: Record<string, string>, namespace = 'x') => cm(name, {}, { namespace, labels });
  await store.create(labelled('web-1', { app: 'web', tier: 'front' }));
  await store.create(labelled('web-2', { app: 'web', tier: 'back' }));
  await store.create(labelled('db-1', { app: 'db', tier: 'front' }));
  await store.create(labelled('web-other-ns', { app: 'web', tier: 'front' }, 'y'));
  const names = (ns: string, sel: Record<string, string>) => inf.withLabels(ns, sel).map((o) => o.metadata.name).sort();
  assert.equal(names('x', { app: 'web' }), ['web-1', 'web-2']);
  assert.equal(names('x', { app: 'web', tier: 'front' }), ['web-1'], 'every pair, whichever is the rarer');
  assert.equal(names('x', { tier: 'front', app: 'web' }), ['web-1']);
  assert.equal(names('y', { app: 'web' }), ['web-other-ns'], 'its namespace only');
  assert.equal(names('x', { app: 'none' }), []);
  await store.create(labelled('web-3', { app: 'web', tier: 'front' }));
  await store.update(labelled('web-1', { app: 'web', tier: 'back' }));
  await store.delete('ConfigMap', 'x', 'web-2');
  await store.update(labelled('db-1', { app: 'web', tier: 'front' }));
  assert.equal(names('x', { app: 'web', tier: 'front' }), ['db-1', 'web-3'], 'after a relabel, an add and a delete');
  assert.equal(names('x', { app: 'db' }), []);
  assert.equal(names('x', { tier: 'back' }), ['web-1']);
  assert.throws(() => inf.withLabels('x', {}), /needs a label/, 'an empty selector is the caller\'s to handle');
});

test('selecting: the objects whose selector the labels satisfy, as a scan of the namespace finds them, through changes', async () => {
  const { store } = await freshStore();
  const inf = new Informer(store, 'ConfigMap');
  await inf.start();
  // A ConfigMap's data stands for a selector here; an empty one selects nothing.
  const selectorOf = (o: any) => (o.data && Object.keys(o.data).length ? o.data as Record<string, string> : undefined);
  const scan = (ns: string, labels: Record<string, string>) => inf.list(ns)
    .filter((o) => { const sel = selectorOf(o); return !!sel && matchesSelector({ matchLabels: sel }, labels); })
    .map((o) => o.metadata.name).sort();
  const found = (ns: string, labels: Record<string, string> | undefined) => inf.selecting('data', selectorOf, ns, labels).map((o) => o.metadata.name).sort();
  await store.create(cm('web', { app: 'web' }, { namespace: 'x' }));
  await store.create(cm('web-front', { app: 'web', tier: 'front' }, { namespace: 'x' }));
  await store.create(cm('none', {}, { namespace: 'x' }));
  await store.create(cm('web-y', { app: 'web' }, { namespace: 'y' }));
  assert.equal(found('x', { app: 'web', tier: 'front', extra: '1' }), ['web', 'web-front']);
  assert.equal(found('x', { app: 'web' }), ['web'], 'every pair of the selector');
  assert.equal(found('x', { tier: 'front' }), [], 'found through one pair, checked on all');
  assert.equal(found('x', {}), [], 'no labels: nothing, not the empty selector');
  assert.equal(found('x', undefined), []);
  // Random selectors, labels and changes: always what matching every object of the namespace gives.
  let seed = 7;
  const rnd = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
  const randomLabels = () => Object.fromEntries(['app', 'tier', 'v'].filter(() => rnd(2)).map((k) => [k, `${k}${rnd(3)}`]));
  for (let i = 0; i < 300; i++) {
    const name = `s${rnd(20)}`, ns = rnd(4) ? 'x' : 'y';
    if (rnd(5) === 0) await store.delete('ConfigMap', ns, name).catch(() => {});
    else if (await store.get('ConfigMap', ns, name)) await store.update(cm(name, randomLabels(), { namespace: ns }));
    else await store.create(cm(name, randomLabels(), { namespace: ns }));
    const labels = randomLabels();
    assert.equal(found(ns, labels), scan(ns, labels), `step ${i}: ${JSON.stringify(labels)} in ${ns}`);
  }
});

test('match narrows the cache: objects entering it are added, leaving it deleted', async () => {
  const { store } = await freshStore();
  await store.create(cm('in', { on: 'yes' }));
  await store.create(cm('out', { on: 'no' }));
  const seen: string[] = [];
  const inf = new Informer(store, 'ConfigMap', { match: (o) => (o.data as any)?.on === 'yes' }).on({
    add: (o) => seen.push(`add ${o.metadata.name}`), delete: (o) => seen.push(`delete ${o.metadata.name}`),
  });
  await inf.start();
  const out = (await store.get('ConfigMap', 'default', 'out'))!;
  await store.update({ ...out, data: { on: 'yes' } });
  const was = (await store.get('ConfigMap', 'default', 'in'))!;
  await store.update({ ...was, data: { on: 'no' } });
  assert.equal(seen, ['add in', 'add out', 'delete in']);
  assert.equal(inf.list().map((o) => o.metadata.name), ['out']);
});

test.run();
