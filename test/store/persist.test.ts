import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSelector } from '../../src/model/selector.ts';
import { cm, freshStore, names, pod, cleanup, tempDir, waitFor, open } from './helpers.ts';

test.after.each(cleanup);

const stateOf = async (dir: string) => JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));

test('a missing dataDir is created and a missing file is an empty store', async () => {
  const dir = join(await tempDir(), 'nested', 'data');
  const store = await open(dir);
  assert.ok((await stat(dir)).isDirectory());
  assert.equal(await store.list('ConfigMap'), []);
  assert.is(await store.resourceVersion(), '0');
  await store.close();
  assert.is(store.stats.writes, 0, 'nothing changed, nothing written');
  assert.not.ok(existsSync(join(dir, 'state.json')));
});

test('reopen after close restores objects, status, meta and indexes; resourceVersion continues', async () => {
  const { store, dir } = await freshStore();
  const a = await store.create(pod('a', { app: 'web' }, 'prod'));
  await store.create(pod('b', { app: 'db' }, 'prod'));
  await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'prod' } });
  await store.updateStatus('Pod', 'prod', 'a', { phase: 'Running' });
  await store.delete('Pod', 'prod', 'b');
  await store.setMeta('sync', { lastAppliedRevision: 'abc', history: [1, 2] });
  await store.recordEvent({ kind: 'Pod', namespace: 'prod', name: 'a', uid: a.metadata.uid }, 'Normal', 'Started', 'started');
  const before = await store.list('Pod');
  const events = await store.list('Event');
  assert.is(await store.resourceVersion(), '6');
  await store.close();

  const again = await open(dir);
  assert.equal(await again.list('Pod'), before);
  assert.equal((await again.get('Pod', 'prod', 'a'))?.status, { phase: 'Running' });
  assert.equal(names(await again.list('Namespace')), ['prod']);
  assert.equal(names(await again.list('Pod', { labelSelector: parseSelector('app=web') })), ['prod/a']);
  assert.equal(await again.getMeta('sync'), { lastAppliedRevision: 'abc', history: [1, 2] });
  assert.equal(await again.list('Event'), events);
  assert.is(await again.resourceVersion(), '6');
  const c = await again.create(cm('after-restart'));
  assert.is(c.metadata.resourceVersion, '7');
  // Folding works on reloaded events too.
  await again.recordEvent({ kind: 'Pod', namespace: 'prod', name: 'a', uid: a.metadata.uid }, 'Normal', 'Started', 'started');
  assert.equal((await again.list('Event')).map((e) => e.count), [2]);
  await again.close();
});

test('meta values are deep copies, and undefined deletes', async () => {
  const { store, dir } = await freshStore();
  const value = { list: ['a'] };
  await store.setMeta('inv', value);
  value.list.push('mutated');
  const got = (await store.getMeta<{ list: string[] }>('inv'))!;
  got.list.push('mutated too');
  assert.equal(await store.getMeta('inv'), { list: ['a'] });
  await store.setMeta('gone', 1);
  await store.setMeta('gone', undefined);
  assert.is(await store.getMeta('gone'), undefined);
  await store.close();
  assert.equal((await stateOf(dir)).meta, { inv: { list: ['a'] } });
});

test('a burst of changes is one write; flush writes pending state', async () => {
  const { store, dir } = await freshStore({ flushDelay: 60_000 });
  for (let i = 0; i < 100; i++) await store.create(cm(`c${i}`, { i: String(i) }));
  await store.setMeta('m', 1);
  assert.is(store.stats.writes, 0, 'nothing written before the delay');
  assert.not.ok(existsSync(join(dir, 'state.json')));
  await store.flush();
  assert.is(store.stats.writes, 1);
  const s = await stateOf(dir);
  assert.is(s.objects.length, 100);
  assert.is(s.resourceVersion, 100);
  await store.flush();
  assert.is(store.stats.writes, 1, 'flush with nothing pending does not write');
  await store.close();
});

test('with the default delay, 100 changes take a handful of writes and the file is compact', async () => {
  const { store, dir } = await freshStore();
  for (let i = 0; i < 100; i++) await store.create(cm(`c${i}`, { i: String(i) }));
  const file = join(dir, 'state.json');
  await waitFor(async () => existsSync(file) && (await stateOf(dir)).resourceVersion === 100, 'the 100th change on disk');
  assert.ok(store.stats.writes >= 1 && store.stats.writes <= 5, `writes: ${store.stats.writes}`);
  const text = await readFile(file, 'utf8');
  assert.not.match(text, /\n/);
  assert.not.match(text, /": /);
  assert.is(text, JSON.stringify(JSON.parse(text)));
  await store.close();
});

test('close waits for a write in flight', async () => {
  const { store, dir } = await freshStore({ flushDelay: 60_000 });
  await store.create(cm('only'));
  void store.flush();
  for (let i = 0; i < 100 && store.stats.writes === 0; i++) await Promise.resolve();
  assert.is(store.stats.writes, 1, 'the write is in flight');
  await store.close();
  assert.equal((await stateOf(dir)).objects.map((o: { metadata: { name: string } }) => o.metadata.name), ['only']);
  assert.is(store.stats.writes, 1);
});

test('resourceVersion survives deletes across a restart and never falls behind stored objects', async () => {
  const { store, dir } = await freshStore();
  await store.create(cm('a'));
  await store.delete('ConfigMap', 'default', 'a');
  await store.close();
  const again = await open(dir);
  assert.is(await again.resourceVersion(), '2');
  assert.is((await again.create(cm('b'))).metadata.resourceVersion, '3');
  await again.close();

  // A hand-edited file whose counter lags its objects must not hand out a version twice.
  const s = await stateOf(dir);
  s.resourceVersion = 1;
  await writeFile(join(dir, 'state.json'), JSON.stringify(s));
  const edited = await open(dir);
  assert.is(await edited.resourceVersion(), '3');
  assert.is((await edited.create(cm('c'))).metadata.resourceVersion, '4');
  await edited.close();
});

test('close writes pending changes, including ones made while a write is in flight', async () => {
  const { store, dir } = await freshStore({ flushDelay: 60_000 });
  await store.create(cm('first'));
  const flushed = store.flush();
  // Spin on microtasks only: the write starts, but file I/O cannot finish until the event loop turns.
  for (let i = 0; i < 100 && store.stats.writes === 0; i++) await Promise.resolve();
  assert.is(store.stats.writes, 1, 'the first write is in flight');
  await store.create(cm('second'));
  await store.close();
  await flushed;
  assert.is(store.stats.writes, 2);
  assert.equal((await stateOf(dir)).objects.map((o: { metadata: { name: string } }) => o.metadata.name).sort(), ['first', 'second']);
  const again = await open(dir);
  assert.equal(names(await again.list('ConfigMap')), ['default/first', 'default/second']);
  await again.close();
});

for (const [what, text] of [
  ['truncated', '{"version":1,"resourceVersion":3,"objects":[{"kind":"Con'],
  ['empty', ''],
  ['not JSON', 'hello'],
  ['the wrong shape', '{"version":1,"resourceVersion":3,"objects":{},"meta":{}}'],
  ['an unknown version', '{"version":9,"resourceVersion":3,"objects":[],"meta":{}}'],
] as const) {
  test(`a ${what} state.json fails openStore naming the file, and is left as it was`, async () => {
    const dir = await tempDir();
    const file = join(dir, 'state.json');
    await writeFile(file, text);
    try {
      await open(dir);
      assert.unreachable('openStore should fail');
    } catch (err) {
      assert.match((err as Error).message, `cannot open store: ${file} is not a readable convergit state file`);
    }
    assert.is(await readFile(file, 'utf8'), text);
  });
}

test.run();
