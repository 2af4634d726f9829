// Watches over real HTTP against a real store, as kube-apiserver answers them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import type { Store } from '../../src/store/store.ts';
import { until } from '../support/wait.ts';

let dir: string, store: Store, api: ApiServer;

/** A watch stream: events as they arrive, and whether the server ended it. */
function stream(p: string) {
  const ctrl = new AbortController();
  const events: any[] = [];
  let ended = false;
  let status = 0;
  const done = (async () => {
    const res = await fetch(api.url + p, { signal: ctrl.signal });
    status = res.status;
    if (!res.ok) { events.push(await res.json()); ended = true; return; }
    const reader = res.body!.getReader();
    let buf = '';
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buf += new TextDecoder().decode(value);
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) { events.push(JSON.parse(buf.slice(0, nl))); buf = buf.slice(nl + 1); }
    }
    ended = true;
  })().catch((e) => { if (e.name !== 'AbortError') throw e; });
  return { events, ended: () => ended, status: () => status, stop: () => ctrl.abort(), done };
}

const cm = (name: string, data: Record<string, string> = {}, labels?: Record<string, string>) =>
  ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default', ...(labels ? { labels } : {}) }, data });

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-watch-'));
  store = await openStore(dir, { watchHistory: 5 });
  await store.create(cm('a'));
  await store.update({ ...cm('a', { v: '2' }) });
  await store.create(cm('b'));
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test', bookmarkIntervalMs: 200 });
});

test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('resourceVersion unset or 0: the current objects as ADDED first (no stale history), then changes', async () => {
  for (const rv of ['', '&resourceVersion=0']) {
    const w = stream(`/api/v1/namespaces/default/configmaps?watch=true${rv}`);
    await until(() => w.events.length >= 2, 'the initial objects');
    assert.equal(w.events.map((e) => [e.type, e.object.metadata.name]), [['ADDED', 'a'], ['ADDED', 'b']]);
    assert.equal(w.events[0].object.data, { v: '2' }, 'the current state, not the first one');
    await store.update(cm('b', { v: rv || 'unset' }));
    await until(() => w.events.length >= 3, 'the change');
    assert.equal([w.events[2].type, w.events[2].object.data.v], ['MODIFIED', rv || 'unset']);
    w.stop();
  }
});

test('after a restart, a watch from 0 lists again instead of answering 410', async () => {
  await api.close();
  await store.close();
  store = await openStore(dir, { watchHistory: 5 });
  for (let i = 0; i < 8; i++) await store.update(cm('a', { v: String(i) })); // more changes than the history keeps
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test', bookmarkIntervalMs: 200 });
  const w = stream('/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=0');
  await until(() => w.events.length >= 2, 'the initial objects');
  assert.equal(w.events.map((e) => e.type), ['ADDED', 'ADDED']);
  assert.is(w.events[0].object.data.v, '7');
  w.stop();
});

test('watch=True (the Python client) is a watch; timeoutSeconds ends it, with a BOOKMARK first when allowed', async () => {
  const w = stream('/api/v1/namespaces/default/configmaps?watch=True&timeoutSeconds=1&allowWatchBookmarks=true');
  await until(() => w.ended(), 'the watch to end after timeoutSeconds', 5000);
  const types = w.events.map((e) => e.type);
  assert.equal(types.slice(0, 2), ['ADDED', 'ADDED']);
  assert.is(types.at(-1), 'BOOKMARK');
  const bm = w.events.at(-1).object;
  assert.is(bm.kind, 'ConfigMap');
  assert.is(bm.metadata.resourceVersion, await store.resourceVersion());
});

test('BOOKMARKs arrive while a watch is quiet when allowWatchBookmarks=true, never without it', async () => {
  const rv = await store.resourceVersion();
  const w = stream(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
  const plain = stream(`/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`);
  await until(() => w.events.some((e) => e.type === 'BOOKMARK'), 'a bookmark', 5000);
  await store.update(cm('b', { v: 'after-bookmark' }));
  await until(() => plain.events.length >= 1, 'the change on the plain watch');
  assert.equal(plain.events.map((e) => e.type), ['MODIFIED']);
  w.stop(); plain.stop();
});

test('sendInitialEvents=true: the initial objects end with a bookmark annotated k8s.io/initial-events-end', async () => {
  const w = stream('/api/v1/namespaces/default/configmaps?watch=1&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true');
  await until(() => w.events.some((e) => e.type === 'BOOKMARK'), 'the initial-events-end bookmark');
  assert.equal(w.events.slice(0, 3).map((e) => e.type), ['ADDED', 'ADDED', 'BOOKMARK']);
  assert.equal(w.events[2].object.metadata.annotations, { 'k8s.io/initial-events-end': 'true' });
  w.stop();
  // Without NotOlderThan or without bookmarks, the options are invalid (422), as ListOptions validation says.
  const bad = await fetch(api.url + '/api/v1/configmaps?watch=1&sendInitialEvents=true&allowWatchBookmarks=true');
  assert.is(bad.status, 422);
  assert.match(((await bad.json()) as any).message, /sendInitialEvents requires setting resourceVersionMatch to NotOlderThan/);
});

test('a future resourceVersion is 504 "Too large resource version" with Retry-After; a malformed one is 400', async () => {
  const current = Number(await store.resourceVersion());
  const res = await fetch(`${api.url}/api/v1/configmaps?watch=true&resourceVersion=${current + 1000}`);
  const body = (await res.json()) as any;
  assert.is(res.status, 504);
  assert.is(res.headers.get('retry-after'), '1');
  assert.equal([body.kind, body.reason, body.code], ['Status', 'Timeout', 504]);
  assert.match(body.message, new RegExp(`^Too large resource version: ${current + 1000}, current: \\d+$`));
  assert.equal(body.details.causes, [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }]);
  assert.is(body.details.retryAfterSeconds, 1);
  const malformed = await fetch(`${api.url}/api/v1/configmaps?watch=true&resourceVersion=abc`);
  assert.is(malformed.status, 400);
  assert.is(((await malformed.json()) as any).reason, 'BadRequest');
});

test('a field selector on a watch: entering is ADDED, leaving is DELETED', async () => {
  await store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, type: 'Opaque', data: {} });
  const w = stream('/api/v1/namespaces/default/secrets?watch=true&fieldSelector=type%3Dkubernetes.io%2Ftls');
  await until(() => w.status() === 200, 'the watch to start');
  await store.update({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, type: 'kubernetes.io/tls', data: {} });
  await store.update({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 's', namespace: 'default' }, type: 'Opaque', data: {} });
  await until(() => w.events.length >= 2, 'enter and leave');
  assert.equal(w.events.map((e) => e.type), ['ADDED', 'DELETED']);
  w.stop();
});

test.run();
