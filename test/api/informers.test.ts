// Informers of @kubernetes/client-node and of the Python client (python3-kubernetes: a list, then a watch from its
// resourceVersion, re-listing on 410, as client-go's reflector) see every change, ADDED, MODIFIED and DELETED, also
// those made while the API restarts over the same data folder: the store keeps its versions, so a watch resumed
// from the last version a client saw misses nothing.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import * as k8s from '@kubernetes/client-node';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import type { Store } from '../../src/store/store.ts';
import { until } from '../support/wait.ts';

const PYTHON = '/usr/bin/python3';
let dir: string, store: Store, api: ApiServer;
const start = (port: number) => startApiServer({ store, host: '127.0.0.1', port, repository: '/r', branch: 'main', version: 'test' });
const cm = (name: string, v: string) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v } });

/** The Python client's list-then-watch loop, printing `TYPE name v` for each change it learns of. */
const PY_INFORMER = `
import sys, time
from kubernetes import client, watch
from kubernetes.client.rest import ApiException
cfg = client.Configuration(); cfg.host = sys.argv[1]
api = client.CoreV1Api(client.ApiClient(cfg))
cache = {}
def emit(t, o): print(t, o.metadata.name, (o.data or {}).get('v', ''), flush=True)
def relist():
    got = api.list_namespaced_config_map('default')
    now = {o.metadata.name: o for o in got.items}
    for n, o in now.items():
        if n not in cache: emit('ADDED', o)
        elif cache[n].metadata.resource_version != o.metadata.resource_version: emit('MODIFIED', o)
    for n, o in cache.items():
        if n not in now: emit('DELETED', o)
    cache.clear(); cache.update(now)
    return got.metadata.resource_version
rv = None
while True:
    try:
        if rv is None: rv = relist()
        for e in watch.Watch().stream(api.list_namespaced_config_map, 'default', resource_version=rv):
            o = e['object']; rv = o.metadata.resource_version
            if e['type'] == 'DELETED': cache.pop(o.metadata.name, None)
            else: cache[o.metadata.name] = o
            emit(e['type'], o)
    except ApiException as ex:
        if ex.status == 410: rv = None
        else: time.sleep(0.2)
    except Exception:
        time.sleep(0.2)  # the server is away (restarting): watch again from the last version seen
`;

/** Whether `log` holds `wanted` in this order (other lines between them allowed). */
const inOrder = (log: string[], wanted: string[]) => {
  let i = 0;
  for (const line of log) if (line === wanted[i]) i++;
  return i === wanted.length;
};

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-informers-'));
  store = await openStore(dir);
  await store.create(cm('a', '1'));
  api = await start(0);
});

test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('client-node and Python informers get every add, modify and delete, across a restart of the API and store', async () => {
  const kc = new k8s.KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: api.url, skipTLSVerify: true }], users: [{ name: 'u' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }], currentContext: 'x',
  });
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/configmaps', () => core.listNamespacedConfigMap({ namespace: 'default' }));
  const node: string[] = [];
  const line = (t: string) => (o: k8s.V1ConfigMap) => node.push(`${t} ${o.metadata!.name} ${o.data?.v ?? ''}`);
  informer.on('add', line('ADDED'));
  informer.on('update', line('MODIFIED'));
  informer.on('delete', line('DELETED'));
  // client-node's informer stops on a connection error; its documented remedy is to start it again.
  let stopped = false;
  informer.on('error', () => { if (!stopped) setTimeout(() => void informer.start().catch(() => {}), 200); });
  const py: ChildProcess = spawn(PYTHON, ['-c', PY_INFORMER, api.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  let pyOut = '', pyErr = '';
  py.stdout!.on('data', (d) => (pyOut += d));
  py.stderr!.on('data', (d) => (pyErr += d));
  const python = () => pyOut.split('\n').filter(Boolean);
  const both = (wanted: string[], what: string) => until(() => inOrder(node, wanted) && inOrder(python(), wanted), `${what}: client-node ${node.join('; ')} | python ${python().join('; ')} ${pyErr}`, 30_000);
  try {
    await informer.start();
    await both(['ADDED a 1'], 'the initial list');
    await store.create(cm('b', '1'));
    await store.update(cm('a', '2'));
    await both(['ADDED a 1', 'ADDED b 1', 'MODIFIED a 2'], 'changes while running');
    // A restart: the server and the store close; changes land as the store opens again, before the API listens.
    const port = api.port;
    await api.close();
    await store.close();
    store = await openStore(dir);
    await store.update(cm('b', '2'));
    await store.delete('ConfigMap', 'default', 'a');
    await store.create(cm('c', '1'));
    api = await start(port);
    await both(['ADDED a 1', 'ADDED b 1', 'MODIFIED a 2', 'MODIFIED b 2', 'DELETED a 2', 'ADDED c 1'], 'changes made across the restart');
    await store.update(cm('c', '2'));
    await both(['MODIFIED b 2', 'DELETED a 2', 'ADDED c 1', 'MODIFIED c 2'], 'a change after it');
    assert.equal(informer.list().map((o) => `${o.metadata!.name}=${o.data!.v}`).sort(), ['b=2', 'c=2']);
    // Every change once: nothing replayed twice after the restart.
    assert.equal(node.filter((l) => l === 'MODIFIED b 2').length, 1, node.join('; '));
    assert.equal(python().filter((l) => l === 'MODIFIED b 2').length, 1, python().join('; '));
  } finally {
    stopped = true;
    await informer.stop();
    py.kill();
  }
});

test.run();
