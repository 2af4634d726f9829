// What test/e2e/kubectl.test.ts leaves out of the commands a user types daily, with the real kubectl against the
// API over a store holding a small workload: `kubectl events`, `get -l`, `api-resources`, and every write
// command (create, run, expose, delete, scale, label, annotate, patch, set image, rollout restart, autoscale)
// ending in the commit-to-git answer.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import type { Store } from '../../src/store/store.ts';

let dir: string, store: Store, api: ApiServer;
const kubectl = (...args: string[]) => new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
  execFile('kubectl', ['--server', api.url, ...args], { encoding: 'utf8', timeout: 60_000 }, (err, stdout, stderr) =>
    resolve({ code: err ? Number((err as any).code) || 1 : 0, stdout, stderr }));
});
const ok = async (...args: string[]) => {
  const r = await kubectl(...args);
  assert.is(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const header = (out: string) => out.split('\n')[0].trim().split(/\s{2,}/);

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-daily-'));
  store = await openStore(dir);
  const labels = { app: 'web' };
  const template = { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx' }] } };
  await store.create({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default', labels }, spec: { replicas: 1, selector: { matchLabels: labels }, template } });
  const web = await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default', labels }, spec: { nodeName: 'n', containers: [{ name: 'web', image: 'nginx' }] } });
  const db = await store.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'db-1', namespace: 'default', labels: { app: 'db' } }, spec: { containers: [{ name: 'db', image: 'postgres' }] } });
  await store.recordEvent({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'web-1', uid: web.metadata.uid }, 'Normal', 'Scheduled', 'Successfully assigned default/web-1 to n');
  await store.recordEvent({ apiVersion: 'v1', kind: 'Pod', namespace: 'default', name: 'db-1', uid: db.metadata.uid }, 'Warning', 'FailedScheduling', '0/1 nodes are available');
  api = await startApiServer({ store, host: '127.0.0.1', port: 0, repository: '/srv/git/shop', branch: 'main', version: 'test' });
});

test.after(async () => {
  await api.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('kubectl events: every event of the namespace; --for one object; --types', async () => {
  const all = await ok('events');
  assert.equal(header(all), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
  assert.match(all, /Normal\s+Scheduled\s+Pod\/web-1\s+Successfully assigned default\/web-1 to n/);
  assert.match(all, /Warning\s+FailedScheduling\s+Pod\/db-1/);
  const one = await ok('events', '--for', 'pod/db-1');
  assert.match(one, /FailedScheduling\s+Pod\/db-1/);
  assert.not.match(one, /web-1/);
  assert.not.match(await ok('events', '--types', 'Warning'), /Scheduled/);
});

test('get -l: equality, set and existence selectors', async () => {
  assert.is(await ok('get', 'pods', '-l', 'app=web', '-o', 'name'), 'pod/web-1\n');
  assert.is(await ok('get', 'pods', '-l', 'app in (db)', '-o', 'name'), 'pod/db-1\n');
  assert.is(await ok('get', 'pods', '-l', 'app,app!=web', '-o', 'name'), 'pod/db-1\n');
  assert.match((await kubectl('get', 'pods', '-l', 'tier=front')).stderr, /No resources found in default namespace/);
});

test('api-resources: kinds with their verbs as served (no watch for componentstatuses and metrics), categories', async () => {
  const wide = await ok('api-resources', '-o', 'wide');
  assert.equal(header(wide), ['NAME', 'SHORTNAMES', 'APIVERSION', 'NAMESPACED', 'KIND', 'VERBS', 'CATEGORIES']);
  assert.match(wide, /\ncomponentstatuses\s+cs\s+v1\s+false\s+ComponentStatus\s+get,list\s*\n/);
  assert.match(wide, /\ndeployments\s+deploy\s+apps\/v1\s+true\s+Deployment\s+get,list,watch\s+all\n/);
  assert.match(wide, /\npods\s+metrics\.k8s\.io\/v1beta1\s+true\s+PodMetrics\s+get,list\s*\n/);
  assert.match(wide, /\nselfsubjectaccessreviews\s+authorization\.k8s\.io\/v1\s+false\s+SelfSubjectAccessReview\s+create\s*\n/);
  assert.is(await ok('api-resources', '--api-group', 'batch', '--no-headers', '-o', 'name'), 'cronjobs.batch\njobs.batch\n');
  const watch = await fetch(`${api.url}/apis/metrics.k8s.io/v1beta1/pods?watch=true`);
  assert.is(watch.status, 405);
  assert.is(((await watch.json()) as any).message, 'watch is not supported on resources of kind "pods.metrics.k8s.io"');
});

test('every write command ends in the commit-to-git answer, naming the repository and branch', async () => {
  const say = /convergit is read-only: (POST|PATCH|DELETE|PUT) is not allowed\. Change the system by committing to \/srv\/git\/shop \(branch main\)/;
  for (const cmd of [
    ['create', 'configmap', 'x', '--from-literal=a=b'], ['create', 'deployment', 'y', '--image=nginx'], ['run', 'x', '--image=nginx'],
    ['expose', 'deploy', 'web', '--port', '80'], ['delete', 'pod', 'db-1'], ['scale', 'deploy', 'web', '--replicas=2'],
    ['label', 'pod', 'db-1', 'a=b'], ['annotate', 'pod', 'db-1', 'a=b'], ['patch', 'deploy', 'web', '-p', '{"spec":{"replicas":2}}'],
    ['set', 'image', 'deploy/web', 'web=nginx:2'], ['rollout', 'restart', 'deploy/web'], ['autoscale', 'deploy', 'web', '--max=3'],
  ]) {
    const r = await kubectl(...cmd);
    assert.is(r.code, 1, `kubectl ${cmd.join(' ')}: ${r.stdout}`);
    assert.match(r.stderr, say, `kubectl ${cmd.join(' ')}`);
  }
  assert.is(await ok('get', 'pods', '-o', 'name'), 'pod/db-1\npod/web-1\n', 'nothing changed');
});

test.run();
