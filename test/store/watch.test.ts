import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseSelector } from '../../src/model/selector.ts';
import { StoreError, type WatchEvent } from '../../src/store/store.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { cm, freshStore, pod, cleanup, open } from './helpers.ts';

test.after.each(cleanup);

/** `TYPE ns/name@rv` lines: compact and exact. */
const fmt = (e: WatchEvent) => `${e.type} ${e.object.kind} ${e.object.metadata.namespace ?? ''}/${e.object.metadata.name}@${e.object.metadata.resourceVersion}`;

function recorder() {
  const seen: WatchEvent[] = [];
  return { seen, handler: (e: WatchEvent) => { seen.push(e); }, lines: () => seen.map(fmt) };
}

async function rejectsWith(p: Promise<unknown>, reason: StoreError['reason'], message: RegExp) {
  try {
    await p;
  } catch (err) {
    assert.instance(err, StoreError);
    assert.is((err as StoreError).reason, reason);
    assert.match((err as Error).message, message);
    return;
  }
  assert.unreachable(`expected ${reason}`);
}

test('live events in order: ADDED, MODIFIED (update and status), DELETED; no-ops send nothing', async () => {
  const { store } = await freshStore();
  await store.create(cm('before'));
  const r = recorder();
  const stop = await store.watch({}, r.handler);
  await store.create(cm('a', { x: '1' }));
  await store.update(cm('a', { x: '1' })); // no-op
  await store.update(cm('a', { x: '2' }));
  await store.updateStatus('ConfigMap', 'default', 'a', { ok: true });
  await store.updateStatus('ConfigMap', 'default', 'a', { ok: true }); // no-op
  await store.delete('ConfigMap', 'default', 'a');
  assert.equal(r.lines(), [
    'ADDED ConfigMap default/a@2',
    'MODIFIED ConfigMap default/a@3',
    'MODIFIED ConfigMap default/a@4',
    'DELETED ConfigMap default/a@5',
  ]);
  assert.equal(r.seen[1].object.data, { x: '2' });
  assert.equal(r.seen[3].object.status, { ok: true }, 'DELETED carries the last state');
  stop();
  await store.create(cm('after'));
  assert.is(r.seen.length, 4, 'stopped');
  await store.close();
});

test('filters by kind, namespace and labels; a relabel enters or leaves the selector as ADDED or DELETED', async () => {
  const { store } = await freshStore();
  const pods = recorder(), prod = recorder(), web = recorder();
  await store.watch({ kind: 'Pod' }, pods.handler);
  await store.watch({ namespace: 'prod' }, prod.handler);
  await store.watch({ kind: 'Pod', labelSelector: parseSelector('app=web') }, web.handler);
  await store.create(pod('p1', { app: 'web' }, 'prod'));
  await store.create(pod('p2', { app: 'db' }));
  await store.create(cm('c', {}, { namespace: 'prod' }));
  await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } }); // cluster-scoped: passes a namespace filter
  await store.update(pod('p2', { app: 'web' })); // enters app=web
  await store.update(pod('p1', { app: 'api' }, 'prod')); // leaves app=web
  await store.update(pod('p1', { app: 'api', v: '2' }, 'prod')); // still outside
  await store.delete('Pod', 'default', 'p2');

  assert.equal(pods.lines(), [
    'ADDED Pod prod/p1@1', 'ADDED Pod default/p2@2', 'MODIFIED Pod default/p2@5', 'MODIFIED Pod prod/p1@6', 'MODIFIED Pod prod/p1@7', 'DELETED Pod default/p2@8',
  ]);
  assert.equal(prod.lines(), ['ADDED Pod prod/p1@1', 'ADDED ConfigMap prod/c@3', 'ADDED Namespace /prod@4', 'MODIFIED Pod prod/p1@6', 'MODIFIED Pod prod/p1@7']);
  assert.equal(web.lines(), ['ADDED Pod prod/p1@1', 'ADDED Pod default/p2@5', 'DELETED Pod prod/p1@6', 'DELETED Pod default/p2@8']);
  assert.equal(web.seen[2].object.metadata.labels, { app: 'web' }, 'leaving shows the state that matched');
  await store.close();
});

test('replay from a resourceVersion, then live, without gaps or duplicates', async () => {
  const { store } = await freshStore();
  await store.create(cm('a'));
  const from = await store.resourceVersion();
  await store.create(cm('b'));
  await store.update(cm('a', { x: '1' }));
  await store.create(pod('p', {}));
  const r = recorder();
  await store.watch({ kind: 'ConfigMap', resourceVersion: from }, r.handler);
  assert.equal(r.lines(), ['ADDED ConfigMap default/b@2', 'MODIFIED ConfigMap default/a@3']);
  await store.delete('ConfigMap', 'default', 'b');
  assert.equal(r.lines(), ['ADDED ConfigMap default/b@2', 'MODIFIED ConfigMap default/a@3', 'DELETED ConfigMap default/b@5']);

  const now = recorder();
  await store.watch({ resourceVersion: await store.resourceVersion() }, now.handler);
  assert.equal(now.seen, [], 'nothing newer to replay');
  await store.close();
});

test('Gone when the version is older than the kept history, and after a restart', async () => {
  const { store, dir } = await freshStore({ watchHistory: 3 });
  for (const n of ['a', 'b', 'c', 'd', 'e']) await store.create(cm(n)); // versions 1..5; history keeps 3..5
  await rejectsWith(store.watch({ resourceVersion: '1' }, () => {}), 'Gone', /resourceVersion 1 is too old/);
  const r = recorder();
  await store.watch({ resourceVersion: '2' }, r.handler);
  assert.equal(r.lines(), ['ADDED ConfigMap default/c@3', 'ADDED ConfigMap default/d@4', 'ADDED ConfigMap default/e@5']);
  await rejectsWith(store.watch({ resourceVersion: '9' }, () => {}), 'Invalid', /newer than the store's 5/);
  await rejectsWith(store.watch({ resourceVersion: 'abc' }, () => {}), 'Invalid', /invalid resourceVersion/);
  await store.close();

  const again = await open(dir);
  await rejectsWith(again.watch({ resourceVersion: '4' }, () => {}), 'Gone', /too old/);
  const fromNow = recorder();
  await again.watch({ resourceVersion: '5' }, fromNow.handler);
  await again.create(cm('f'));
  assert.equal(fromNow.lines(), ['ADDED ConfigMap default/f@6']);
  await again.close();
});

test('a throwing handler does not break other watchers or the writer', async () => {
  const errors: unknown[] = [];
  const { store } = await freshStore({ onError: (e) => errors.push(e) });
  const r = recorder();
  await store.watch({}, () => { throw new Error('boom'); });
  await store.watch({}, r.handler);
  await store.create(cm('a'));
  await store.create(cm('b'));
  assert.equal(r.lines(), ['ADDED ConfigMap default/a@1', 'ADDED ConfigMap default/b@2']);
  assert.equal(errors.map((e) => (e as Error).message), ['boom', 'boom']);
  await store.close();
});

test('a handler that writes: every watcher still sees changes in version order', async () => {
  const { store } = await freshStore();
  const first = recorder(), second = recorder();
  // Like a controller reacting to a Pod by writing a ConfigMap, synchronously inside delivery.
  await store.watch({}, (e) => {
    first.handler(e);
    if (e.object.kind === 'Pod' && e.type === 'ADDED') void store.create(cm(`for-${e.object.metadata.name}`));
  });
  await store.watch({}, second.handler);
  await store.create(pod('p', {}));
  const expected = ['ADDED Pod default/p@1', 'ADDED ConfigMap default/for-p@2'];
  assert.equal(first.lines(), expected);
  assert.equal(second.lines(), expected);
  await store.close();
});

test('a watcher stopped by another\'s handler during a delivery is offered nothing more, of its kind or of all', async () => {
  const { store } = await freshStore();
  const kindLate = recorder(), allLate = recorder();
  let stops: (() => void)[] = [];
  await store.watch({ kind: 'ConfigMap' }, (e) => { if (e.object.metadata.name === 'a') for (const s of stops) s(); });
  stops = [await store.watch({ kind: 'ConfigMap' }, kindLate.handler), await store.watch({}, allLate.handler)];
  await store.create(cm('a'));
  await store.create(cm('b'));
  // The all-kinds watcher is offered a change before the ConfigMap watchers, so it saw `a`; the other did not.
  assert.equal(allLate.lines(), ['ADDED ConfigMap default/a@1']);
  assert.equal(kindLate.lines(), []);
  await store.close();
});

test('a watch started inside a handler replays without duplicating queued changes', async () => {
  const { store } = await freshStore();
  const late = recorder();
  await store.watch({}, (e) => {
    if (e.object.metadata.name !== 'a') return;
    void store.create(cm('b')); // queued behind the current delivery
    void store.watch({ resourceVersion: '0' }, late.handler);
  });
  await store.create(cm('a'));
  await store.create(cm('c'));
  assert.equal(late.lines(), ['ADDED ConfigMap default/a@1', 'ADDED ConfigMap default/b@2', 'ADDED ConfigMap default/c@3']);
  await store.close();
});

test('watch events are copies: a handler mutating its event cannot touch the store or other watchers', async () => {
  const { store } = await freshStore();
  const r = recorder();
  await store.watch({}, (e) => { e.object.data = { hacked: 'yes' }; });
  await store.watch({}, r.handler);
  await store.create(cm('a', { x: '1' }));
  assert.equal(r.seen[0].object.data, { x: '1' });
  assert.equal((await store.get('ConfigMap', 'default', 'a'))?.data, { x: '1' });
  await store.close();
});

test('watch after close is refused', async () => {
  const { store } = await freshStore();
  await store.close();
  try {
    await store.watch({}, () => {});
    assert.unreachable('watch after close');
  } catch (err) {
    assert.match((err as Error).message, /is closed/);
  }
});

test('a watch by nodeName sees its node\'s pods only: bound is ADDED, status changes MODIFIED, leaving DELETED; replay too', async () => {
  const { store } = await freshStore();
  const a: string[] = [], b: string[] = [];
  const start = await store.resourceVersion();
  await store.watch({ kind: 'Pod', nodeName: 'a' }, (e) => a.push(`${e.type} ${e.object.metadata.name}`));
  await store.watch({ kind: 'Pod', nodeName: 'b' }, (e) => b.push(`${e.type} ${e.object.metadata.name}`));
  const p = await store.create(pod('p', { app: 'x' }));
  assert.equal([a, b], [[], []], 'unbound: nobody\'s');
  const bound = await store.update({ ...p, spec: { ...p.spec, nodeName: 'a' } });
  await store.updateStatus('Pod', 'default', 'p', { phase: 'Running' });
  const moved = (await store.get('Pod', 'default', 'p'))!;
  await store.update({ ...moved, spec: { ...moved.spec, nodeName: 'b' } });
  await store.delete('Pod', 'default', 'p', { gracePeriodSeconds: 0 });
  assert.equal(a, ['ADDED p', 'MODIFIED p', 'DELETED p'], 'moved away: deleted for a');
  assert.equal(b, ['ADDED p', 'DELETED p']);
  const replayed: string[] = [];
  await store.watch({ kind: 'Pod', nodeName: 'a', resourceVersion: start }, (e) => replayed.push(`${e.type} ${e.object.metadata.resourceVersion}`));
  assert.equal(replayed.map((r) => r.split(' ')[0]), ['ADDED', 'MODIFIED', 'DELETED']);
  assert.ok(Number(replayed[0].split(' ')[1]) === Number(bound.metadata.resourceVersion));
});


test('shared watches and reads hand out the stored object, never changed in place; copies otherwise; freeze makes a change throw', async () => {
  const { store } = await freshStore({ freeze: true });
  const shared = recorder();
  const copied = recorder();
  await store.watch({ kind: 'ConfigMap', shared: true }, shared.handler);
  await store.watch({ kind: 'ConfigMap' }, copied.handler);
  await store.create(cm('a', { x: '1' }));
  const first = shared.seen[0].object;
  const x = (o: KubeObject) => (o.data as Record<string, string>).x;
  // Every informer sees the one stored object; a plain watcher gets its own copy, free to change.
  assert.is(await store.get('ConfigMap', 'default', 'a', { shared: true }), first);
  assert.is((await store.list('ConfigMap', { shared: true }))[0], first);
  assert.is.not(copied.seen[0].object, first);
  (copied.seen[0].object.data as Record<string, string>).x = 'changed by a reader';
  assert.throws(() => { (first.data as Record<string, string>).x = 'changed'; }, TypeError);
  assert.throws(() => { first.metadata.labels = {}; }, TypeError);
  // A change replaces the stored object: what a reader holds stays as it was read.
  await store.update(cm('a', { x: '2' }));
  assert.is(x(first), '1');
  assert.is(x(shared.seen[1].object), '2');
  assert.is.not(shared.seen[1].object, first);
  assert.is(x((await store.get('ConfigMap', 'default', 'a'))!), '2');
});

test.run();
