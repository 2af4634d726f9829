import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import type { Store } from '../../src/store/store.ts';

const run = promisify(execFile);
let dir: string, store: Store, api: ApiServer;
const get = async (p: string, headers?: Record<string, string>) => {
  const res = await fetch(api.url + p, { headers });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.clone().text(), body: (await res.json().catch(() => undefined)) as any };
};

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-api-'));
  store = await openStore(dir);
  await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
  await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'greeting', namespace: 'default', labels: { app: 'web' } }, data: { a: '1' } });
  await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'other', namespace: 'shop', labels: { app: 'db' } }, data: {} });
  await store.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', labels: { app: 'web' } }, spec: { replicas: 3 } });
  await store.setMeta('status', { state: 'synced', sync: 'Synced', message: 'applied revision abc1234', repository: '/r', branch: 'main', path: '', stateSince: new Date().toISOString(), errors: [{ severity: 'error', file: 'a.yaml', line: 3, column: 5, kind: 'Pod', name: 'p', field: 'spec', message: '<b>bad</b>' }], warnings: [], timings: {}, conditions: [], objects: [], history: [] });
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
});

test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('namespaced list, cross-namespace list, get, with list metadata', async () => {
  const ns = await get('/api/v1/namespaces/default/configmaps');
  assert.is(ns.status, 200);
  assert.is(ns.body.kind, 'ConfigMapList');
  assert.is(ns.body.apiVersion, 'v1');
  assert.ok(Number(ns.body.metadata.resourceVersion) > 0);
  assert.equal(ns.body.items.map((o: any) => o.metadata.name), ['greeting']);
  const all = await get('/api/v1/configmaps');
  assert.equal(all.body.items.map((o: any) => o.metadata.name).sort(), ['greeting', 'other']);
  const one = await get('/apis/apps/v1/namespaces/default/deployments/web');
  assert.is(one.body.kind, 'Deployment');
  assert.is(one.body.spec.replicas, 3);
  const nsObj = await get('/api/v1/namespaces/shop');
  assert.is(nsObj.body.kind, 'Namespace');
});

test('labelSelector filters; a bad selector is a 400 Status', async () => {
  const r = await get('/api/v1/configmaps?labelSelector=' + encodeURIComponent('app in (db)'));
  assert.equal(r.body.items.map((o: any) => o.metadata.name), ['other']);
  const bad = await get('/api/v1/configmaps?labelSelector=' + encodeURIComponent('app=(x'));
  assert.is(bad.status, 400);
  assert.is(bad.body.kind, 'Status');
});

test('unknown names and resources are 404 Status objects', async () => {
  const r = await get('/apis/apps/v1/namespaces/default/deployments/nope');
  assert.is(r.status, 404);
  assert.is(r.body.reason, 'NotFound');
  assert.match(r.body.message, /^deployments\.apps "nope" not found$/, 'as kube-apiserver names it: resource.group');
  assert.is((await get('/api/v1/widgets')).status, 404);
});

test('every write method is refused with 405 and says to commit instead', async () => {
  for (const method of ['POST', 'PUT', 'PATCH', 'DELETE']) {
    const res = await fetch(api.url + '/apis/apps/v1/namespaces/default/deployments/web', { method, body: method === 'DELETE' ? undefined : '{}' });
    const body = (await res.json()) as any;
    assert.is(res.status, 405, method);
    assert.is(body.kind, 'Status');
    assert.is(body.reason, 'MethodNotAllowed');
    assert.match(body.message, /committing to \/r \(branch main\)/);
  }
  assert.is((await store.get('Deployment', 'default', 'web'))!.spec.replicas, 3, 'nothing changed');
});

test('discovery, version, healthz', async () => {
  assert.equal((await get('/api')).body.versions, ['v1']);
  assert.ok((await get('/apis')).body.groups.some((g: any) => g.name === 'apps'));
  const core = await get('/api/v1');
  assert.ok(core.body.resources.some((r: any) => r.name === 'configmaps' && r.namespaced && r.verbs.includes('list')));
  assert.is((await get('/version')).body.major, '1');
  assert.is((await get('/healthz')).text, 'ok');
});

test('Table output for kubectl-style clients', async () => {
  const r = await get('/apis/apps/v1/namespaces/default/deployments', { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' });
  assert.is(r.body.kind, 'Table');
  assert.equal(r.body.columnDefinitions.map((c: any) => c.name), ['Name', 'Ready', 'Up-to-date', 'Available', 'Age', 'Containers', 'Images', 'Selector']);
  assert.equal(r.body.rows[0].cells.slice(0, 4), ['web', '0/3', 0, 0]);
});

test('watch streams changes after a resourceVersion', async () => {
  const rv = (await get('/api/v1/namespaces/default/configmaps')).body.metadata.resourceVersion;
  const ctrl = new AbortController();
  const res = await fetch(`${api.url}/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${rv}`, { signal: ctrl.signal });
  const reader = res.body!.getReader();
  await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'fresh', namespace: 'default' }, data: {} });
  let text = '';
  while (!text.includes('\n')) text += new TextDecoder().decode((await reader.read()).value);
  const event = JSON.parse(text.split('\n')[0]);
  assert.is(event.type, 'ADDED');
  assert.is(event.object.metadata.name, 'fresh');
  ctrl.abort();
});

test('status JSON and the HTML page, which escapes what it shows', async () => {
  const s = await get('/status');
  assert.is(s.body.sync, 'Synced');
  const page = await get('/');
  assert.match(page.type!, /text\/html/);
  assert.match(page.text, /a\.yaml:3:5: Pod\/p: spec: &#60;b&#62;bad&#60;\/b&#62;/);
  assert.not.match(page.text, /<b>bad<\/b>/);
});

test('kubectl get works against the API', async () => {
  const { stdout } = await run('kubectl', ['--server', api.url, 'get', 'deployments', '-n', 'default']);
  assert.match(stdout, /NAME\s+READY\s+UP-TO-DATE\s+AVAILABLE\s+AGE/);
  assert.match(stdout, /web\s+0\/3/);
  const json = await run('kubectl', ['--server', api.url, 'get', 'configmap', 'greeting', '-o', 'jsonpath={.data.a}']);
  assert.is(json.stdout, '1');
});

test.run();
