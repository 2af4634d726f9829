// Big lists and /status are streamed (chunked, element by element) yet are the same JSON a single stringify gives;
// small ones still go out in one piece with a content-length; a client leaving mid-stream harms nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { get as httpGet } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type LowdbStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';

let dir: string, store: LowdbStore, api: ApiServer;
const N = 900;
const fetchText = async (p: string, headers?: Record<string, string>) => {
  const res = await fetch(api.url + p, { headers });
  return { status: res.status, text: await res.text(), headers: res.headers };
};

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-streamed-'));
  store = await openStore(dir, { flushDelay: 60_000 });
  // Big enough that the list spans many 64 kB chunks; a unicode value and a quote to check escaping across them.
  for (let i = 0; i < N; i++) {
    await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${String(i).padStart(4, '0')}`, namespace: `ns-${i % 3}` }, data: { v: `"${'é'.repeat(200)}" ${i}` } });
  }
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
});
test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a big LIST is chunked, not sized up front, and is exactly the compact JSON of the list', async () => {
  const r = await fetchText('/api/v1/configmaps');
  assert.is(r.status, 200);
  assert.is(r.headers.get('transfer-encoding'), 'chunked');
  assert.is(r.headers.get('content-length'), null);
  assert.is(r.headers.get('content-type'), 'application/json');
  const expected = { kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: await store.resourceVersion() }, items: await store.list('ConfigMap') };
  assert.is(r.text, JSON.stringify(expected));
  assert.ok(r.text.length > 4 * 64 * 1024, `${r.text.length} characters: several chunks`);
});

test('each object\'s text is made once per version and never goes stale: LIST, GET and watch show each change', async () => {
  const first = await fetchText('/api/v1/configmaps'); // makes (and keeps) every item's text
  assert.ok(first.text.includes('"cm-0007"'));
  const watch = await fetch(`${api.url}/api/v1/namespaces/ns-1/configmaps?watch=1&resourceVersion=${await store.resourceVersion()}`);
  const reader = watch.body!.getReader();
  const cur = (await store.get('ConfigMap', 'ns-1', 'cm-0007'))!;
  await store.update({ ...cur, data: { v: 'changed "once"' } });
  await store.flush(); // the journal writes the new version (its text made there is the one served)
  const stored = (await store.get('ConfigMap', 'ns-1', 'cm-0007'))!;
  assert.is((stored.data as Record<string, string>).v, 'changed "once"');
  assert.is((await fetchText('/api/v1/namespaces/ns-1/configmaps/cm-0007')).text, JSON.stringify(stored));
  const list = await fetchText('/api/v1/configmaps');
  assert.is(list.text, JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: await store.resourceVersion() }, items: await store.list('ConfigMap') }));
  const one = await fetchText('/api/v1/namespaces/ns-1/configmaps?fieldSelector=metadata.name%3Dcm-0007'); // a small list: one piece
  assert.is(one.text, JSON.stringify({ kind: 'ConfigMapList', apiVersion: 'v1', metadata: { resourceVersion: await store.resourceVersion() }, items: [stored] }));
  let got = '';
  while (!got.includes('\n')) got += new TextDecoder().decode((await reader.read()).value);
  assert.is(got.split('\n')[0], JSON.stringify({ type: 'MODIFIED', object: stored }));
  await reader.cancel();
});

test('a Table of a big list is streamed too; a small page goes out whole with a content-length', async () => {
  const t = await fetchText('/api/v1/namespaces/ns-1/configmaps', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  assert.is(t.headers.get('transfer-encoding'), 'chunked');
  const table = JSON.parse(t.text);
  assert.is(table.kind, 'Table');
  assert.is(table.rows.length, N / 3);
  assert.equal(table.rows[0].cells.slice(0, 2), ['cm-0001', 1]);
  const page = await fetchText('/api/v1/configmaps?limit=50');
  assert.is(page.headers.get('content-length'), String(Buffer.byteLength(page.text)));
  const body = JSON.parse(page.text);
  assert.is(body.items.length, 50);
  assert.ok(body.metadata.continue);
  assert.is(body.metadata.remainingItemCount, N - 50);
});

test('/status with thousands of objects is streamed and equals the stored status', async () => {
  const objects = Array.from({ length: 3000 }, (_, i) => ({ key: `v1/ConfigMap/default/c${i}`, kind: 'ConfigMap', name: `c${i}`, health: { status: 'Healthy' } }));
  await store.setMeta('status', { state: 'idle', sync: 'Synced', objects, inventory: objects.map((o) => o.key), skipped: undefined });
  const r = await fetchText('/status');
  assert.is(r.headers.get('transfer-encoding'), 'chunked');
  const s = JSON.parse(r.text);
  assert.equal(s.objects, objects);
  assert.equal(s.inventory, objects.map((o) => o.key));
  assert.ok(!('skipped' in s));
  assert.is(s.workloads.pods.length, 0);
});

test('/status?summary: counts per kind, only the objects not Synced and Healthy (at most 100), no inventory', async () => {
  const objects = Array.from({ length: 3000 }, (_, i) => ({
    key: `k${i}`, kind: i % 2 ? 'ConfigMap' : 'Service', name: `o${i}`,
    status: i % 20 === 1 ? 'OutOfSync' : 'Synced', health: i % 20 === 2 ? 'Degraded' : 'Healthy',
  }));
  await store.setMeta('status', { state: 'idle', sync: 'Synced', head: 'abc', objects, inventory: objects.map((o) => o.key), history: [] });
  const r = await fetchText('/status?summary');
  assert.is(r.headers.get('content-length'), String(Buffer.byteLength(r.text)));
  const s = JSON.parse(r.text);
  assert.is(s.head, 'abc');
  assert.equal(s.kinds, {
    Service: { total: 1500, sync: { Synced: 1500 }, health: { Healthy: 1350, Degraded: 150 } },
    ConfigMap: { total: 1500, sync: { Synced: 1350, OutOfSync: 150 }, health: { Healthy: 1500 } },
  });
  assert.equal(s.objects, objects.filter((o) => o.status !== 'Synced' || o.health !== 'Healthy').slice(0, 100));
  assert.is(s.objectsOmitted, 200);
  assert.is(s.inventoryCount, 3000);
  assert.not.ok('inventory' in s);
  assert.equal(s.workloadCounts, { deployments: 0, pods: 0, services: 0, ingresses: 0 });
  assert.ok(r.text.length < 40_000, `${r.text.length} characters`);
});

test('a client that goes away mid-list: the server stops writing and answers the next request', async () => {
  await new Promise<void>((resolve, reject) => {
    const req = httpGet(`${api.url}/api/v1/configmaps`, (res) => {
      res.once('data', () => {
        req.destroy(); // after the first chunk
        resolve();
      });
    });
    req.on('error', (e) => ((e as NodeJS.ErrnoException).code === 'ECONNRESET' ? resolve() : reject(e)));
  });
  const again = await fetchText('/api/v1/configmaps');
  assert.is(JSON.parse(again.text).items.length, N);
  assert.is((await fetchText('/healthz')).text, 'ok');
});

test.run();
