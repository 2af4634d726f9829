import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Informer } from '../../src/store/informer.ts';
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

test.run();
