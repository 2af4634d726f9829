import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { appendFile, copyFile, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseSelector } from '../../src/model/selector.ts';
import { readStateFile } from '../../src/store/persist.ts';
import { readJournal } from '../../src/store/journal.ts';
import { cm, freshStore, names, pod, cleanup, tempDir, waitFor, open } from './helpers.ts';

test.after.each(cleanup);

/** The state as a reader outside the store sees it: state.json with the journal replayed. */
const stateOf = (dir: string): Promise<any> => readStateFile(join(dir, 'state.json'));

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

test('a write appends what changed to state.journal; once the journal outgrows state.json it is compacted into it', async () => {
  const { store, dir } = await freshStore({ flushDelay: 60_000, journalMin: 0 });
  for (let i = 0; i < 200; i++) await store.create(cm(`c${i}`, { v: 'x'.repeat(100) }));
  await store.flush();
  assert.equal(store.stats, { writes: 1, snapshots: 1, records: 0, bytes: (await stat(join(dir, 'state.json'))).size }, 'the first write is a snapshot');
  const snapshot = store.stats.bytes;
  const c7 = (await store.get('ConfigMap', 'default', 'c7'))!;
  await store.update({ ...c7, data: { v: 'changed' } });
  await store.delete('ConfigMap', 'default', 'c8');
  await store.setMeta('m', { n: 1 });
  await store.flush();
  assert.is(store.stats.records, 1);
  const record = store.stats.bytes - snapshot;
  assert.ok(record < 1000, `one record of the changes, ${record} bytes (the snapshot is ${snapshot})`);
  assert.is((await stat(join(dir, 'state.journal'))).size, record);
  assert.is((await stat(join(dir, 'state.json'))).size, snapshot, 'state.json untouched');
  const merged = await stateOf(dir);
  assert.is(merged.objects.length, 199);
  assert.equal(merged.objects.find((o: any) => o.metadata.name === 'c7').data, { v: 'changed' });
  assert.equal(merged.meta, { m: { n: 1 } });
  // Records until the journal is as big as state.json, then one snapshot holds everything and the journal restarts.
  for (let i = 0; store.stats.snapshots === 1; i++) {
    const cur = (await store.get('ConfigMap', 'default', `c${100 + (i % 100)}`))!;
    await store.update({ ...cur, data: { v: `${i}`.repeat(50) } });
    await store.flush();
    assert.ok(i < 1000, 'no compaction');
  }
  assert.is((await stat(join(dir, 'state.journal'))).size, 0);
  const compacted = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8'));
  assert.is(compacted.seq, store.stats.records, 'state.json holds every record written');
  assert.equal(compacted.objects.length, 199);
  await store.close();
  const again = await open(dir);
  assert.equal(await again.list('ConfigMap'), await (async () => { const s = await stateOf(dir); return s.objects.sort((a: any, b: any) => a.metadata.name.localeCompare(b.metadata.name)); })());
});

test('a record of a megabyte is made over turns of the event loop with one checksum, and read back whole; a change after it is taken goes in the next', async () => {
  const { store, dir } = await freshStore({ flushDelay: 60_000, journalMin: 64 << 20 });
  await store.create(cm('first', {}));
  await store.flush(); // the snapshot
  for (let i = 0; i < 3000; i++) await store.create(cm(`c${i}`, { v: `${i}`.repeat(100) }));
  const flushed = store.flush();
  await new Promise((r) => setImmediate(r)); // the record is taken
  await store.create(cm('during', {}));
  await flushed;
  await store.flush();
  const { records } = await readJournal(join(dir, 'state.journal'));
  assert.equal(records.map((r) => r.put?.length), [3000, 1]);
  assert.ok((await stat(join(dir, 'state.journal'))).size > 900_000, 'a megabyte');
  await store.close();
  const again = await open(dir);
  assert.is((await again.list('ConfigMap')).length, 3002);
  assert.equal((await again.get('ConfigMap', 'default', 'c2999'))!.data, { v: '2999'.repeat(100) });
});

test('a record bigger than its first buffer, of texts beyond ASCII (é, €, an emoji of two UTF-16 units), reads back as written', async () => {
  const { store, dir } = await freshStore({ flushDelay: 60_000, journalMin: 64 << 20 });
  await store.create(cm('first', {}));
  await store.flush(); // the snapshot
  // 20 objects of ~100 kB: the buffer is sized for 2 kB an object, so it grows several times.
  const text = (i: number) => `é€😀${i}`.repeat(10_000);
  for (let i = 0; i < 20; i++) await store.create(cm(`big${i}`, { v: text(i) }));
  await store.flush();
  const { records, torn } = await readJournal(join(dir, 'state.journal'));
  assert.is(torn, false);
  assert.equal(records.map((r) => r.put?.length), [20]);
  assert.equal(records[0].put!.map((o) => (o as any).data.v), Array.from({ length: 20 }, (_, i) => text(i)));
  await store.close();
  const again = await open(dir);
  assert.equal((await again.get('ConfigMap', 'default', 'big19'))!.data, { v: text(19) });
});

test('a map-valued meta record is written as the entries that changed; reopened, replayed or compacted, it is the same map', async () => {
  const { store, dir } = await freshStore({ flushDelay: 60_000, journalMin: 1 << 30 });
  const big = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`v1/ConfigMap/default/c${i}`, 'a'.repeat(40)]));
  await store.patchMeta('inv', big);
  await store.flush(); // the first write: a snapshot
  const before = store.stats.bytes;
  await store.patchMeta('inv', { 'v1/ConfigMap/default/c5': 'b'.repeat(40), 'v1/ConfigMap/default/c6': undefined, 'v1/ConfigMap/default/new': '' });
  await store.patchMeta('inv', { 'v1/ConfigMap/default/c7': 'a'.repeat(40), 'v1/ConfigMap/default/absent': undefined }); // no change
  await store.flush();
  const record = store.stats.bytes - before;
  assert.is(store.stats.records, 1);
  assert.ok(record < 400, `one record of three entries, ${record} bytes (the map is ${JSON.stringify(big).length})`);
  const journal = await readFile(join(dir, 'state.journal'), 'utf8');
  assert.match(journal, '"metaDel":{"inv":["v1/ConfigMap/default/c6"]}');
  const expected: Record<string, string> = { ...big, 'v1/ConfigMap/default/c5': 'b'.repeat(40), 'v1/ConfigMap/default/new': '' };
  delete expected['v1/ConfigMap/default/c6'];
  assert.equal((await stateOf(dir)).meta.inv, expected, 'state.json with the journal replayed');
  const got = (await store.getMeta<Record<string, string>>('inv'))!;
  got.mutated = 'x'; // a copy
  await store.close();
  const again = await open(dir, { journalMin: 0, flushDelay: 60_000 });
  assert.equal(await again.getMeta('inv'), expected, 'reopened');
  // Every entry rewritten, longer: the journal outgrows state.json, so the next write is a compaction.
  for (const k of Object.keys(expected)) expected[k] = 'c'.repeat(100);
  await again.patchMeta('inv', expected);
  await again.flush();
  await again.patchMeta('inv', { 'v1/ConfigMap/default/c9': undefined });
  delete expected['v1/ConfigMap/default/c9'];
  const snapshots = again.stats.snapshots;
  await again.flush();
  assert.is(again.stats.snapshots, snapshots + 1, 'compacted');
  assert.equal(JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')).meta.inv, expected, 'compacted');
  await again.close();
});

test('a meta record kept in memory only (persist: false) is never written, and an older persisted value is removed', async () => {
  const { store, dir } = await freshStore({ flushDelay: 60_000 });
  await store.setMeta('status', { old: true });
  await store.flush();
  assert.equal((await stateOf(dir)).meta.status, { old: true });
  const status = { state: 'synced', objects: [{ key: 'k' }] };
  await store.setMeta('status', status, { persist: false });
  assert.is(await store.getMeta('status', { shared: true }), status, 'stored as given');
  await store.setMeta('other', 1);
  await store.close();
  assert.equal((await stateOf(dir)).meta, { other: 1 });
  const again = await open(dir);
  assert.is(await again.getMeta('status'), undefined);
  await again.close();
});

test('a torn last journal record is ignored: the state before it loads, and the next write goes after the good records', async () => {
  const { store, dir } = await freshStore({ flushDelay: 60_000 });
  await store.create(cm('a', { v: '1' }));
  await store.flush(); // snapshot
  await store.create(cm('b', { v: '1' }));
  await store.flush(); // record 1
  const good = (await stat(join(dir, 'state.journal'))).size;
  await store.create(cm('c', { v: '1' }));
  await store.flush(); // record 2, torn below
  await store.close();
  const journal = join(dir, 'state.journal');
  const full = (await stat(journal)).size;
  for (const [what, tear] of [
    ['cut short', () => truncate(journal, full - 5)],
    ['without its newline', () => truncate(journal, full - 1)],
    ['garbled', async () => { const b = await readFile(journal); b[full - 20] ^= 0x20; await writeFile(journal, b); }],
    ['followed by half a record', () => appendFile(journal, '0badc0de {"seq":3,"resourceV')],
  ] as const) {
    await copyFile(journal, `${journal}.bak`);
    await tear();
    if (what !== 'followed by half a record') {
      assert.equal(names((await stateOf(dir)).objects), ['default/a', 'default/b'], `${what}: a reader sees the state before it`);
      await readFile(journal).then((b) => assert.ok(b.length > good, `${what}: a reader leaves the file as it was`));
      const again = await open(dir);
      assert.equal(names(await again.list('ConfigMap')), ['default/a', 'default/b'], what);
      assert.is((await stat(journal)).size, good, `${what}: the writer cut the torn record off`);
      await again.create(cm('d'));
      await again.close();
      assert.equal(names(await open(dir).then(async (s) => { const l = await s.list('ConfigMap'); await s.close(); return l; })), ['default/a', 'default/b', 'default/d'], `${what}: the next record loads`);
    } else {
      const again = await open(dir);
      assert.equal(names(await again.list('ConfigMap')), ['default/a', 'default/b', 'default/c'], what);
      await again.close();
    }
    await copyFile(`${journal}.bak`, journal);
  }
});

test('a damaged record before others fails openStore naming the journal, and leaves it as it was', async () => {
  const { store, dir } = await freshStore({ flushDelay: 60_000 });
  await store.create(cm('a'));
  await store.flush();
  for (const n of ['b', 'c']) {
    await store.create(cm(n));
    await store.flush();
  }
  await store.close();
  const journal = join(dir, 'state.journal');
  const b = await readFile(journal);
  b[12] ^= 0x20; // inside the first record
  await writeFile(journal, b);
  try {
    await open(dir);
    assert.unreachable('openStore should fail');
  } catch (err) {
    assert.match((err as Error).message, `cannot open store: ${journal} is not a readable convergit journal (a damaged record at byte 0`);
  }
  assert.equal(await readFile(journal), b);
});

test('a crash after a compaction renamed state.json but before the journal restarted: the old records are not replayed over it', async () => {
  const { store, dir } = await freshStore({ flushDelay: 60_000, journalMin: 0 });
  await store.create(cm('a', { v: '0' }));
  await store.flush();
  const journal = join(dir, 'state.journal');
  let i = 1;
  while (store.stats.snapshots === 1) {
    await copyFile(journal, `${journal}.before`); // the journal as it was when the compaction started
    await store.update({ ...(await store.get('ConfigMap', 'default', 'a'))!, data: { v: String(i++) } });
    await store.flush();
  }
  await store.close();
  await copyFile(`${journal}.before`, journal); // as if the crash came before the journal's truncation
  assert.ok((await stat(journal)).size > 0);
  const again = await open(dir);
  assert.equal((await again.get('ConfigMap', 'default', 'a'))?.data, { v: String(i - 1) });
  await again.update({ ...(await again.get('ConfigMap', 'default', 'a'))!, data: { v: 'next' } });
  await again.close();
  const third = await open(dir);
  assert.equal((await third.get('ConfigMap', 'default', 'a'))?.data, { v: 'next' });
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
