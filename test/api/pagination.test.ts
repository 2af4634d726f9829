// Chunked lists (limit/continue) page through a snapshot by key: every object exactly once, in etcd's key order
// (by code unit: "a-b" before "aa"), with the right remainingItemCount; an expired token's continuation goes on
// after its key in the current list.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ContinueError, Paginator } from '../../src/api/pagination.ts';
import type { KubeObject } from '../../src/model/object.ts';

const obj = (namespace: string, name: string): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { namespace, name } });
const byKey = (a: KubeObject, b: KubeObject) => {
  const ka = `${a.metadata.namespace}\u0000${a.metadata.name}`, kb = `${b.metadata.namespace}\u0000${b.metadata.name}`;
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};
const names = ['a', 'a-b', 'a.b', 'aa', 'ab', 'b', 'b-1', 'b-10', 'b-2', 'z'];
const all = ['default', 'kube-system', 'team-a'].flatMap((ns) => names.map((n) => obj(ns, n))).sort(byKey);
const keys = (xs: KubeObject[]) => xs.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);

test('pages of 4 give every object once, in order, counting what remains', async () => {
  const p = new Paginator();
  const seen: KubeObject[] = [];
  let token: string | undefined;
  let reads = 0;
  do {
    const page = await p.page(4, token, async () => { reads++; return { items: all, resourceVersion: '7' }; });
    seen.push(...page.items);
    assert.is(page.resourceVersion, '7');
    if (page.continue) assert.is(page.remainingItemCount, all.length - seen.length);
    token = page.continue;
  } while (token);
  assert.equal(keys(seen), keys(all));
  assert.is(reads, 1, 'later pages come from the first page\'s snapshot');
});

test('an expired token answers 410 with a token that continues after its key in the current list', async () => {
  let now = 0;
  const p = new Paginator(1000, 64, () => now);
  const first = await p.page(5, undefined, async () => ({ items: all, resourceVersion: '7' }));
  now = 5000;
  const err = await p.page(5, first.continue, async () => ({ items: all, resourceVersion: '9' })).catch((e) => e);
  assert.instance(err, ContinueError);
  assert.is(err.code, 410);
  // Meanwhile "default/ab" went and "default/aaa" came: the continuation starts right after the last key shown.
  const now9 = all.filter((o) => !(o.metadata.namespace === 'default' && o.metadata.name === 'ab')).concat(obj('default', 'aaa')).sort(byKey);
  const rest = await p.page(3, err.continueToken, async () => ({ items: now9, resourceVersion: '9' }));
  assert.equal(keys(first.items), ['default/a', 'default/a-b', 'default/a.b', 'default/aa', 'default/ab']);
  assert.equal(keys(rest.items), ['default/b', 'default/b-1', 'default/b-10']);
  assert.is(rest.remainingItemCount, 22, 'default/b-2, default/z and the 20 of the other namespaces');
});

test('a token that is not ours is a 400', async () => {
  const err = await new Paginator().page(5, 'bm90LWEtdG9rZW4', async () => ({ items: all, resourceVersion: '1' })).catch((e) => e);
  assert.instance(err, ContinueError);
  assert.is(err.code, 400);
});

test.run();
