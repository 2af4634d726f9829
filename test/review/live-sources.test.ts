// Where a plan's live state comes from, with real parts: a lowdb store, its data folder while the store is still
// open, and a real read-only API server over it. All three must see the same objects, inventory and last revision.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openStore, type LowdbStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { liveFromDataDir, liveFromServer, liveFromStore, type Live } from '../../src/review/live-sources.ts';
import { objectKey } from '../../src/model/key.ts';
import { ownerRefTo } from '../../src/model/pod.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { connectServer } from '../../src/cli/server-connection.ts';

/** plan --server's reads of `url`: no kubeconfig, no token (this API needs none on loopback). */
const over = (url: string) => connectServer({ server: url }, () => undefined, { KUBECONFIG: '/nonexistent' })!.getJson;

const SHA = 'c0ffee0123456789abcdef0123456789abcdef01';
const INVENTORY = ['apps/v1/Deployment/default/web', 'v1/ConfigMap/default/greeting'];

let dir: string, store: LowdbStore, api: ApiServer;

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-live-sources-'));
  store = await openStore(dir);
  await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'greeting', namespace: 'default' }, data: { GREETING: 'hi' } });
  const d = await store.create({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'node:20' }] } } },
  });
  await store.updateStatus('Deployment', 'default', 'web', { observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 });
  const rs = await store.create({
    apiVersion: 'apps/v1', kind: 'ReplicaSet', metadata: { name: 'web-5d8f9', namespace: 'default', ownerReferences: [ownerRefTo(d)] },
    spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: d.spec.template },
  });
  for (const [i, node] of [['a', 'node-1'], ['b', 'node-2']]) {
    await store.create({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-5d8f9-${i}`, namespace: 'default', labels: { app: 'web' }, ownerReferences: [ownerRefTo(rs)] },
      spec: { nodeName: node, containers: [{ name: 'web', image: 'node:20' }] },
    });
  }
  for (const name of ['node-1', 'node-2']) {
    await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name }, spec: { podCIDR: '127.1.0.0/24' } });
    await store.updateStatus('Node', undefined, name, { allocatable: { cpu: '2', memory: '2Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] });
  }
  // Events are records, never compared; Endpoints are listed (git may own those of a Service without a selector).
  await store.create({ apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'web', namespace: 'default' }, subsets: [] });
  // A committed APIService is live state; the Local ones the API serves beside it are computed, never stored.
  await store.create({
    apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.metrics.k8s.io' },
    spec: { group: 'metrics.k8s.io', version: 'v1beta1', service: { namespace: 'kube-system', name: 'metrics-server' }, groupPriorityMinimum: 100, versionPriority: 100 },
  });
  await store.recordEvent({ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'web' }, 'Normal', 'Created', 'created from git');
  // As the syncer persists them: `sync` for itself, `status` for /status.
  await store.setMeta('sync', { inventory: INVENTORY, lastApplied: SHA, applied: {}, history: [] });
  await store.setMeta('status', { state: 'synced', sync: 'Synced', lastAppliedRevision: SHA, inventory: INVENTORY, objects: [], history: [] });
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
});

test.after(async () => {
  await api?.close();
  await store?.close();
  rmSync(dir, { recursive: true, force: true });
});

const keys = (l: Live) => l.live.objects.map(objectKey).sort();
const EXPECTED_KEYS = [
  'apiregistration.k8s.io/v1/APIService//v1beta1.metrics.k8s.io',
  'apps/v1/Deployment/default/web',
  'apps/v1/ReplicaSet/default/web-5d8f9',
  'v1/ConfigMap/default/greeting',
  'v1/Endpoints/default/web',
  'v1/Node//node-1',
  'v1/Node//node-2',
  'v1/Pod/default/web-5d8f9-a',
  'v1/Pod/default/web-5d8f9-b',
];

function assertLive(l: Live, where: string) {
  assert.equal(keys(l), EXPECTED_KEYS, where);
  assert.equal(l.live.inventory, INVENTORY, where);
  assert.is(l.live.nodesKnown, true, where);
  assert.is(l.lastApplied, SHA, where);
  const d = l.live.objects.find((o) => o.kind === 'Deployment')!;
  assert.is(d.status.availableReplicas, 2, `${where}: live objects carry their status`);
  const pod = l.live.objects.find((o) => o.metadata.name === 'web-5d8f9-a')!;
  assert.is(pod.spec.nodeName, 'node-1', where);
  assert.is(pod.metadata.ownerReferences![0].name, 'web-5d8f9', where);
}

test('liveFromStore: the plan kinds, nodes included, with the inventory and last revision git applied', async () => {
  assertLive(await liveFromStore(store), 'store');
});

test('liveFromStore: a store nothing was ever synced to has an empty inventory', async () => {
  const other = mkdtempSync(path.join(tmpdir(), 'convergit-live-sources-empty-'));
  const empty = await openStore(other);
  try {
    const l = await liveFromStore(empty);
    assert.equal(l.live.objects, []);
    assert.equal(l.live.inventory, []);
    assert.is(l.lastApplied, undefined);
  } finally {
    await empty.close();
    rmSync(other, { recursive: true, force: true });
  }
});

test('liveFromDataDir: reads state.json of a store that is still open, without writing it', async () => {
  await store.flush();
  const file = path.join(dir, 'state.json');
  const before = { text: readFileSync(file, 'utf8'), mtime: statSync(file).mtimeMs };
  assertLive(await liveFromDataDir(dir), 'data dir');
  assert.is(readFileSync(file, 'utf8'), before.text, 'content unchanged');
  assert.is(statSync(file).mtimeMs, before.mtime, 'not rewritten');
  // The store that owns the folder goes on working.
  await store.updateStatus('Node', undefined, 'node-2', { allocatable: { cpu: '4', memory: '2Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] });
  await store.flush();
  const again = await liveFromDataDir(dir);
  assert.is(again.live.objects.find((o) => o.metadata.name === 'node-2')!.status.allocatable.cpu, '4');
});

test('liveFromDataDir: a folder without state gives an error naming the file', async () => {
  const missing = path.join(dir, 'no-such-folder');
  try {
    await liveFromDataDir(missing);
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.instance(e, Error);
    assert.match((e as Error).message, path.join(missing, 'state.json'));
    assert.match((e as Error).message, /--data-dir/);
  }
});

test('liveFromServer: lists every plan kind over the Kubernetes paths, kind and apiVersion on each item, inventory from /status', async () => {
  const l = await liveFromServer(over(api.url + '/'));
  assertLive(l, 'server');
  for (const o of l.live.objects) {
    const want: Record<string, string> = { APIService: 'apiregistration.k8s.io/v1', Deployment: 'apps/v1', ReplicaSet: 'apps/v1', ConfigMap: 'v1', Endpoints: 'v1', Pod: 'v1', Node: 'v1' };
    assert.is(o.apiVersion, want[o.kind], `${o.kind} ${o.metadata.name}`);
  }
  // The same objects as the store holds, field for field.
  const fromStore = new Map((await liveFromStore(store)).live.objects.map((o: KubeObject) => [objectKey(o), o] as const));
  // (An APIService's status is the Available condition the API computes on read.)
  const stored = (o: KubeObject) => (o.kind === 'APIService' ? { ...o, status: undefined } : o);
  for (const o of l.live.objects) assert.equal(stored(o), stored(fromStore.get(objectKey(o))!), objectKey(o));
});

test('liveFromServer: a /status without an inventory (an older server) falls back to its objects', async () => {
  const saved = await store.getMeta('status');
  await store.setMeta('status', { state: 'synced', lastAppliedRevision: SHA, objects: [{ key: INVENTORY[1] }], history: [] });
  try {
    const l = await liveFromServer(over(api.url));
    assert.equal(l.live.inventory, [INVENTORY[1]]);
  } finally {
    await store.setMeta('status', saved);
  }
});

test('liveFromServer: an unreachable URL says it cannot reach convergit there', async () => {
  // A port that was just listening and is closed now: nothing answers on it.
  const gone = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
  const url = gone.url;
  await gone.close();
  try {
    await liveFromServer(over(url));
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.instance(e, Error);
    assert.match((e as Error).message, `cannot reach convergit at ${url}: ECONNREFUSED`);
  }
});

test('liveFromServer: lists read while a sync applies are read again, so one revision\'s objects come back, not two', async () => {
  const NEXT = 'beef'.repeat(10);
  let reads = 0;
  // /status says "applying" at the first read, then the next revision applied: the first round of lists may mix both.
  const moving = new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'getMeta') {
        return async (key: string) => {
          if (key !== 'status') return target.getMeta(key);
          reads++;
          return reads === 1
            ? { state: 'applying', sync: 'Progressing', lastAppliedRevision: SHA, inventory: INVENTORY, objects: [], history: [] }
            : { state: 'synced', sync: 'Synced', lastAppliedRevision: NEXT, inventory: INVENTORY, objects: [], history: [] };
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const server = await startApiServer({ store: moving, host: '127.0.0.1', port: 0, repository: '/r', branch: 'main', version: 'test' });
  try {
    const l = await liveFromServer(over(server.url));
    assert.is(l.lastApplied, NEXT);
    assert.is(reads, 4, 'a second round, bracketed by /status again');
    assertLive({ ...l, lastApplied: SHA }, 'the second round');
  } finally {
    await server.close();
  }
});

test.run();
