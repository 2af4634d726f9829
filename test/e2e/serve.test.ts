// End to end: a real repository, `convergit serve` as a child process, commits with the git CLI, HTTP polling.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const configMap = (text: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: greeting
data:
  text: ${text}
`;
const deployment = (replicas: number, port = 'containerPort') => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: { app: web }
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      containers:
        - name: web
          image: git:apps/web
          ports:
            - ${port}: 8080
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess;
const status = async () => (await serve.get('/status')).body;
const appliedAt = (sha: string) => until(async () => { const s = await status(); return s.lastAppliedRevision === sha && s.sync === 'Synced' && s; }, `revision ${sha.slice(0, 7)} applied`);
const deploymentObj = async () => (await serve.get('/apis/apps/v1/namespaces/default/deployments/web')).body;

test.before(async () => {
  repo = makeRepo({ 'deploy/greeting.yaml': configMap('hello'), 'deploy/web.yaml': deployment(3), 'README.md': '# app\n', 'apps/web/server.js': '// the app\n' });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-data-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--path', 'deploy', '--nodes', '0']);
});

test.after(async () => {
  await serve?.shutdown();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('first apply: objects in the store, status and history say so', async () => {
  const head = repo.git('rev-parse', 'HEAD');
  const s = await appliedAt(head);
  assert.is(s.head, head);
  assert.is(s.history[0].sha, head);
  assert.is(s.history[0].result, 'Applied');
  assert.is(s.history[0].created, 2);
  assert.equal(s.objects.map((o: any) => `${o.kind}/${o.name}:${o.status}`).sort(), ['ConfigMap/greeting:Synced', 'Deployment/web:Synced']);
  const list = (await serve.get('/apis/apps/v1/namespaces/default/deployments')).body;
  assert.equal(list.items.map((d: any) => d.metadata.name), ['web']);
  const dep = list.items[0];
  assert.is(dep.spec.strategy.rollingUpdate.maxSurge, '25%', 'defaults applied');
  assert.is(dep.metadata.generation, 1);
  assert.ok(dep.metadata.uid);
  const events = (await serve.get('/api/v1/namespaces/default/events')).body.items;
  assert.ok(events.some((e: any) => e.reason === 'Created' && e.involvedObject.name === 'web'));
});

test('update: a changed field is applied, generation bumped', async () => {
  repo.write('deploy/web.yaml', deployment(5));
  const sha = repo.commit('scale web to 5');
  const s = await appliedAt(sha);
  assert.is(s.history[0].message, 'scale web to 5');
  assert.equal([s.history[0].created, s.history[0].updated, s.history[0].pruned], [0, 1, 0]);
  const dep = await deploymentObj();
  assert.is(dep.spec.replicas, 5);
  assert.is(dep.metadata.generation, 2);
});

test('delete from git prunes the object', async () => {
  repo.remove('deploy/greeting.yaml');
  const sha = repo.commit('drop greeting');
  const s = await appliedAt(sha);
  assert.is(s.history[0].pruned, 1);
  assert.is((await serve.get('/api/v1/namespaces/default/configmaps/greeting')).status, 404);
});

test('an invalid commit applies nothing and shows every error with its position', async () => {
  const before = await deploymentObj();
  const good = (await status()).lastAppliedRevision;
  repo.write('deploy/web.yaml', deployment(7, 'containerport'));
  repo.write('deploy/greeting.yaml', configMap('bonjour'));
  const bad = repo.commit('typo');
  const s = await until(async () => { const s = await status(); return s.lastAttemptedRevision === bad && s.sync === 'Failed' && s; }, 'the bad revision to fail');
  assert.is(s.lastAppliedRevision, good);
  const err = s.errors.find((e: any) => e.file === 'deploy/web.yaml');
  assert.ok(err, JSON.stringify(s.errors));
  assert.equal([err.line, err.column, err.kind, err.name], [18, 15, 'Deployment', 'web']);
  assert.match(err.field, /spec\.template\.spec\.containers\[0\]\.ports\[0\]/);
  assert.match(err.message, /did you mean "containerPort"/);
  assert.is(s.history[0].result, 'Failed');
  assert.ok(s.conditions.some((c: any) => c.type === 'Stalled' && c.status === 'True' && c.reason === 'ValidationFailed'));
  // Nothing of the bad commit reached the store, not even the valid ConfigMap in it.
  assert.is((await serve.get('/api/v1/namespaces/default/configmaps/greeting')).status, 404);
  const after = await deploymentObj();
  assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion);
  assert.is(after.spec.replicas, 5);
  const page = (await serve.get('/')).text;
  assert.match(page, /deploy\/web\.yaml:18:15: Deployment\/web/);
});

test('the fix applies normally', async () => {
  repo.write('deploy/web.yaml', deployment(7));
  const sha = repo.commit('fix typo');
  const s = await appliedAt(sha);
  assert.equal(s.errors, []);
  assert.is((await deploymentObj()).spec.replicas, 7);
  assert.is((await serve.get('/api/v1/namespaces/default/configmaps/greeting')).body.data.text, 'bonjour');
});

test('restart: state reloaded, nothing applied twice or duplicated', async () => {
  const before = await status();
  const dep = await deploymentObj();
  assert.is(await serve.stop(), 0, 'clean exit on SIGTERM');
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--path', 'deploy', '--nodes', '0']);
  const s = await appliedAt(before.lastAppliedRevision);
  assert.is(s.history.length, before.history.length);
  const again = await deploymentObj();
  assert.is(again.metadata.uid, dep.metadata.uid);
  assert.is(again.metadata.resourceVersion, dep.metadata.resourceVersion);
  assert.is((await serve.get('/apis/apps/v1/deployments')).body.items.length, 1);
  // And it keeps following the branch.
  repo.write('deploy/web.yaml', deployment(2));
  await appliedAt(repo.commit('scale down after restart'));
  assert.is((await deploymentObj()).spec.replicas, 2);
});

test('suspend holds new commits back; resume applies the head', async () => {
  const { execFileSync } = await import('node:child_process');
  const bin = new URL('../../bin/convergit.js', import.meta.url).pathname;
  execFileSync(process.execPath, [bin, 'suspend', '--data-dir', dataDir, '--reason', 'maintenance']);
  await until(async () => (await status()).state === 'suspended', 'suspended');
  const before = await deploymentObj();
  repo.write('deploy/web.yaml', deployment(4));
  const sha = repo.commit('while suspended');
  const s = await status();
  assert.match(s.message, /suspended: maintenance/, JSON.stringify([s.message, s.state]));
  // A suspended loop has no path to apply: the watcher's CHANGE is ignored there.
  assert.is((await status()).state, 'suspended');
  assert.is((await deploymentObj()).metadata.resourceVersion, before.metadata.resourceVersion);
  execFileSync(process.execPath, [bin, 'resume', '--data-dir', dataDir]);
  await appliedAt(sha);
  assert.is((await deploymentObj()).spec.replicas, 4);
});

test.run();
