// Watch order as kube-apiserver's watch cache gives it: one watcher's events in resourceVersion order, also when one
// watch spans several stored kinds (EndpointSlices: committed ones and those derived from Endpoints), and a watch
// from resourceVersion=N replays exactly the changes after N, in order, then the live ones. Real store, real API
// server, real kubectl and @kubernetes/client-node.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import type { Store } from '../../src/store/store.ts';
import { until } from '../support/wait.ts';

let dir: string, store: Store, api: ApiServer;
const NS = 'ord';
const SLICES = `/apis/discovery.k8s.io/v1/namespaces/${NS}/endpointslices`;

const kubectl = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
  execFile('kubectl', ['--server', api.url, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
    resolve({ code: err ? Number((err as any).code) || 1 : 0, stdout, stderr }));
});
const endpoints = (name: string, ip: string) => ({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name, namespace: NS }, subsets: [{ addresses: [{ ip }], ports: [{ name: 'http', port: 80 }] }] });
const slice = (name: string, ip: string) => ({ apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: NS, labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', endpoints: [{ addresses: [ip] }], ports: [{ name: 'http', port: 80 }] });
/** Each event as `TYPE rv address`, the address telling which write it was. */
const line = (type: string, o: any) => `${type} ${o.metadata.resourceVersion} ${o.endpoints?.[0]?.addresses?.[0] ?? ''}`;

/** Writes alternating between the two stored kinds; returns the lines a watch from before them must show, in order. */
async function interleaved(tag: number): Promise<string[]> {
  const want: string[] = [];
  const write = async (type: string, o: any, ip: string) => {
    if (type === 'ADDED') await store.create(o); else await store.update(o);
    want.push(`${type} ${await store.resourceVersion()} ${ip}`);
  };
  await write('ADDED', endpoints(`ep${tag}`, `10.${tag}.0.1`), `10.${tag}.0.1`);
  await write('ADDED', slice(`es${tag}`, `10.${tag}.1.1`), `10.${tag}.1.1`);
  await write('MODIFIED', endpoints(`ep${tag}`, `10.${tag}.0.2`), `10.${tag}.0.2`);
  await write('MODIFIED', slice(`es${tag}`, `10.${tag}.1.2`), `10.${tag}.1.2`);
  await write('ADDED', endpoints(`ep${tag}b`, `10.${tag}.0.3`), `10.${tag}.0.3`);
  return want;
}

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-watch-order-'));
  store = await openStore(dir);
  await store.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
});

test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('kubectl: a watch from resourceVersion=N replays exactly the changes after N, in version order across both stored kinds', async () => {
  await interleaved(1); // before N: not replayed
  const n = await store.resourceVersion();
  const want = await interleaved(2);
  const r = await kubectl('get', '--raw', `${SLICES}?watch=1&resourceVersion=${n}&timeoutSeconds=1`);
  assert.is(r.code, 0, r.stderr);
  const got = r.stdout.split('\n').filter(Boolean).map((l) => { const e = JSON.parse(l); return line(e.type, e.object); });
  assert.equal(got, want);
});

test('client-node: replayed then live events of one watch arrive in version order, none twice, none missing', async () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({ clusters: [{ name: 'c', server: api.url, skipTLSVerify: true }], users: [{ name: 'u' }], contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x' });
  const n = await store.resourceVersion();
  const replayed = await interleaved(3);
  const got: string[] = [];
  const req = await new k8s.Watch(kc).watch(SLICES, { resourceVersion: n }, (type, o) => got.push(line(type, o)), () => {});
  try {
    await until(() => got.length >= replayed.length, 'the replay');
    const live = await interleaved(4);
    await until(() => got.length >= replayed.length + live.length, 'the live changes');
    assert.equal(got, [...replayed, ...live]);
  } finally {
    req.abort();
  }
});

test.run();
