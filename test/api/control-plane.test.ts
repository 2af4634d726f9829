// The control plane's own objects as kube-apiserver serves them: componentstatuses probed from convergit's store,
// scheduler and controller manager (real ones, over one store); APIServices Local for every served group-version
// and judged as kube-aggregator does when committed; a CSR's requester. Real kubectl reads them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { startScheduler, type Scheduler } from '../../src/scheduler/scheduler.ts';
import { startControllers, type RunningControllers } from '../../src/controllers/manager.ts';
import type { Store } from '../../src/store/store.ts';
import { until } from '../support/wait.ts';

let dir: string, store: Store, api: ApiServer, scheduler: Scheduler | undefined, controllers: RunningControllers | undefined;

const get = async (p: string, headers?: Record<string, string>) => {
  const res = await fetch(api.url + p, { headers });
  return { status: res.status, warning: res.headers.get('warning'), body: (await res.json().catch(() => undefined)) as any };
};
const kubectl = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
  execFile('kubectl', ['--server', api.url, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
    resolve({ code: err ? Number((err as any).code) || 1 : 0, stdout, stderr }));
});
const healthy = (list: any, name: string) => list.items.find((i: any) => i.metadata.name === name)?.conditions[0];

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-cp-'));
  store = await openStore(dir);
  await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kube-system' } });
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
});

test.after(async () => {
  await scheduler?.stop();
  await controllers?.stop();
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('componentstatuses before the scheduler and controllers run: etcd-0 Healthy, the others Unknown with the error', async () => {
  const r = await get('/api/v1/componentstatuses');
  assert.is(r.status, 200);
  assert.is(r.warning, '299 - "v1 ComponentStatus is deprecated in v1.19+"');
  assert.equal(r.body.metadata, {});
  assert.equal(r.body.items.map((i: any) => i.metadata.name).sort(), ['controller-manager', 'etcd-0', 'scheduler']);
  assert.equal(healthy(r.body, 'etcd-0'), { type: 'Healthy', status: 'True', message: 'ok' });
  assert.is(healthy(r.body, 'scheduler').status, 'Unknown');
  assert.match(healthy(r.body, 'scheduler').error, /no heartbeat from the scheduler/);
  assert.is(healthy(r.body, 'controller-manager').status, 'Unknown');
});

test('kubectl get cs: all Healthy once the components run, with the deprecation warning; get one; -o json', async () => {
  scheduler = await startScheduler({ store });
  controllers = await startControllers({ store, log: () => {} });
  const cs = await until(async () => {
    const r = await kubectl('get', 'cs');
    return r.stdout.split('\n').filter((l) => / Healthy /.test(`${l} `)).length === 3 ? r : undefined;
  }, 'three Healthy components', 20_000);
  assert.is(cs.code, 0);
  assert.equal(cs.stdout.split('\n')[0].trim().split(/\s+/), ['NAME', 'STATUS', 'MESSAGE', 'ERROR']);
  assert.match(cs.stdout, /scheduler\s+Healthy\s+ok/);
  assert.match(cs.stdout, /etcd-0\s+Healthy\s+ok/);
  assert.match(cs.stderr, /Warning: v1 ComponentStatus is deprecated in v1\.19\+/);
  const one = await get('/api/v1/componentstatuses/controller-manager');
  assert.equal(one.body, { kind: 'ComponentStatus', apiVersion: 'v1', metadata: { name: 'controller-manager', creationTimestamp: null }, conditions: [{ type: 'Healthy', status: 'True', message: 'ok' }] });
  const json = await kubectl('get', 'componentstatus', 'etcd-0', '-o', 'jsonpath={.conditions[0].status}');
  assert.is(json.stdout, 'True');
});

test('componentstatuses: unknown name is kube-apiserver\'s 500, no watch, metadata.name selects, discovery verbs get and list', async () => {
  const missing = await get('/api/v1/componentstatuses/etcd-9');
  assert.is(missing.status, 500);
  assert.is(missing.body.message, 'Component not found: etcd-9');
  assert.is((await kubectl('get', 'cs', 'etcd-9')).stderr.trim(), 'Warning: v1 ComponentStatus is deprecated in v1.19+\nError from server: Component not found: etcd-9');
  const watch = await get('/api/v1/componentstatuses?watch=true');
  assert.is(watch.status, 405);
  assert.is(watch.body.message, 'watch is not supported on resources of kind "componentstatuses"');
  const sel = await get('/api/v1/componentstatuses?fieldSelector=metadata.name%3Detcd-0');
  assert.equal(sel.body.items.map((i: any) => i.metadata.name), ['etcd-0']);
  assert.is((await get('/api/v1/componentstatuses?fieldSelector=conditions.status%3DTrue')).status, 400);
  const disc = (await get('/api/v1')).body.resources.find((r: any) => r.name === 'componentstatuses');
  assert.equal(disc.verbs, ['get', 'list']);
  assert.equal(disc.shortNames, ['cs']);
});

test('a stopped scheduler is Unhealthy: the heartbeat says it stopped', async () => {
  await scheduler!.stop();
  scheduler = undefined;
  const s = (await get('/api/v1/componentstatuses/scheduler')).body.conditions[0];
  assert.is(s.status, 'Unknown');
  assert.match(s.error, /the scheduler has stopped/);
  assert.match((await kubectl('get', 'cs', 'scheduler')).stdout, /scheduler\s+Unhealthy\s+the scheduler has stopped/);
});

test('etcd-0 is Unhealthy with the error when the store cannot persist (its data folder gone)', async () => {
  const gone = mkdtempSync(path.join(tmpdir(), 'convergit-cp-gone-'));
  const lost = await openStore(gone, { onError: () => {}, journalMin: 1 });
  const api2 = await startApiServer({ store: lost, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
  try {
    await lost.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'a', namespace: 'default' }, data: {} });
    await lost.flush(); // the first snapshot, small
    rmSync(gone, { recursive: true, force: true });
    // Bigger than the snapshot: the journal outgrows it, so the next write is a snapshot into the missing folder.
    await lost.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b', namespace: 'default' }, data: { x: 'y'.repeat(10_000) } });
    await lost.flush();
    await lost.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'default' }, data: {} });
    const etcd = await until(async () => {
      const c = ((await (await fetch(`${api2.url}/api/v1/componentstatuses/etcd-0`)).json()) as any).conditions[0];
      return c.status === 'False' && c;
    }, 'etcd-0 Unhealthy');
    assert.equal(Object.keys(etcd).sort(), ['error', 'status', 'type'], 'no message, as EtcdServer.DoServerCheck on failure');
    assert.match(etcd.error, /ENOENT/);
  } finally {
    await api2.close();
    await lost.close().catch(() => {});
  }
});

test('kubectl get apiservices: a Local, Available one per served group-version, as kube-aggregator registers them', async () => {
  const r = await kubectl('get', 'apiservices');
  assert.is(r.code, 0, r.stderr);
  assert.equal(r.stdout.split('\n')[0].trim().split(/\s+/), ['NAME', 'SERVICE', 'AVAILABLE', 'AGE']);
  for (const name of ['v1.', 'v1.apps', 'v2.autoscaling', 'v1.autoscaling', 'v1.batch', 'v1.apiregistration.k8s.io', 'v1beta1.metrics.k8s.io']) {
    assert.match(r.stdout, new RegExp(`\\n${name.replace(/\./g, '\\.')}\\s+Local\\s+True\\s`), name);
  }
  assert.not.match(r.stdout, /Unknown/);
  const apps = (await get('/apis/apiregistration.k8s.io/v1/apiservices/v1.apps')).body;
  assert.equal(apps.spec, { group: 'apps', version: 'v1', groupPriorityMinimum: 17800, versionPriority: 15 });
  assert.equal(apps.metadata.labels, { 'kube-aggregator.kubernetes.io/automanaged': 'onstart' });
  assert.equal(apps.status.conditions.map((c: any) => [c.type, c.status, c.reason, c.message]), [['Available', 'True', 'Local', 'Local APIServices are always available']]);
  const core = (await get('/apis/apiregistration.k8s.io/v1/apiservices/v1.')).body;
  assert.equal(core.spec, { version: 'v1', groupPriorityMinimum: 18000, versionPriority: 1 });
});

test('a committed APIService with a Service: False with kube-aggregator\'s reason until it has endpoints; Local without one', async () => {
  const api1 = (name: string, service?: object) => ({ apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name }, spec: { group: name.split('.').slice(1).join('.'), version: name.split('.')[0], groupPriorityMinimum: 100, versionPriority: 100, ...(service ? { service } : {}) } });
  await store.create(api1('v1beta1.custom.metrics.k8s.io', { namespace: 'monitoring', name: 'adapter', port: 443 }));
  await store.create(api1('v1.local.example.com'));
  const available = async () => (await get('/apis/apiregistration.k8s.io/v1/apiservices/v1beta1.custom.metrics.k8s.io')).body.status.conditions[0];
  assert.equal(await available().then((c) => [c.status, c.reason, c.message]), ['False', 'ServiceNotFound', 'service/adapter in "monitoring" is not present']);
  await store.create({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'adapter', namespace: 'monitoring' }, spec: { ports: [{ name: 'https', port: 443 }] } });
  assert.is((await available()).reason, 'EndpointsNotFound');
  await store.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'adapter', namespace: 'monitoring' }, subsets: [{ notReadyAddresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'https', port: 6443 }] }] });
  assert.equal(await available().then((c) => [c.reason, c.message]), ['MissingEndpoints', 'endpoints for service/adapter in "monitoring" have no addresses with port name "https"']);
  const table = await kubectl('get', 'apiservices');
  assert.match(table.stdout, /v1beta1\.custom\.metrics\.k8s\.io\s+monitoring\/adapter\s+False \(MissingEndpoints\)/);
  assert.match(table.stdout, /v1\.local\.example\.com\s+Local\s+True/);
  await store.update({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'adapter', namespace: 'monitoring' }, subsets: [{ addresses: [{ ip: '10.0.0.1' }], ports: [{ name: 'https', port: 6443 }] }] });
  assert.is((await available()).reason, 'NotAggregated');
});

test('kubectl get csr: REQUESTOR is convergit, the identity that applies every commit', async () => {
  await store.create({ apiVersion: 'certificates.k8s.io/v1', kind: 'CertificateSigningRequest', metadata: { name: 'alice' }, spec: { request: 'LS0t', signerName: 'kubernetes.io/kube-apiserver-client', usages: ['client auth'], username: 'mallory', groups: ['system:masters'] } });
  const r = await kubectl('get', 'csr');
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /alice\s+\S+\s+kubernetes\.io\/kube-apiserver-client\s+convergit\s+<none>\s+Pending/);
  const o = (await get('/apis/certificates.k8s.io/v1/certificatesigningrequests/alice')).body;
  assert.equal([o.spec.username, o.spec.groups], ['convergit', ['system:authenticated']]);
  const listed = (await get('/apis/certificates.k8s.io/v1/certificatesigningrequests?fieldSelector=spec.signerName%3Dkubernetes.io%2Fkube-apiserver-client')).body;
  assert.equal(listed.items.map((i: any) => i.spec.username), ['convergit']);
});

test.run();
