// The same build in serve and plan, end to end: serve applies an overlay built by kustomize and keeps the
// build in <data-dir>/builds; a remote base is refused in /status; plan reviews a branch that changes a patch.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { configMap, deployment, kustomizeMissing } from './helpers.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;

const files = (replicas: number) => ({
  'deploy/base/kustomization.yaml': 'resources: [web.yaml, settings.yaml]\n',
  'deploy/base/web.yaml': deployment('web'),
  'deploy/base/settings.yaml': configMap('settings'),
  'deploy/prod/kustomization.yaml': 'resources: [../base]\nnamePrefix: prod-\npatches:\n- path: replicas.yaml\n',
  'deploy/prod/replicas.yaml': `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec: {replicas: ${replicas}}\n`,
});

test('serve applies the built overlay, caches the build under the data folder, and refuses a remote base', async () => {
  if (await kustomizeMissing('serve with kustomize')) return;
  const repo = makeRepo(files(2));
  const dataDir = mkdtempSync(join(tmpdir(), 'convergit-data-'));
  let serve: ServeProcess | undefined;
  try {
    serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--path', 'deploy', '--nodes', '0']);
    const status = async () => (await serve!.get('/status')).body;
    const good = repo.git('rev-parse', 'HEAD');
    const s = await until(async () => { const s = await status(); return s.lastAppliedRevision === good && s.sync === 'Synced' && s; }, 'the overlay applied');
    assert.equal(s.objects.map((o: any) => `${o.kind}/${o.name}`).sort(), ['ConfigMap/prod-settings', 'Deployment/prod-web']);
    const web = (await serve.get('/apis/apps/v1/namespaces/default/deployments/prod-web')).body;
    assert.is(web.spec.replicas, 2);
    assert.is(web.metadata.annotations?.['config.kubernetes.io/origin'], undefined);
    assert.is(readdirSync(join(dataDir, 'builds')).filter((f) => f.endsWith('.yaml')).length, 1);

    repo.write('deploy/prod/kustomization.yaml', 'resources: [../base, https://example.com/extra.yaml]\nnamePrefix: prod-\n');
    const bad = repo.commit('a remote resource');
    const failed = await until(async () => { const s = await status(); return s.lastAttemptedRevision === bad && s.sync === 'Failed' && s; }, 'the remote base refused');
    assert.is(failed.lastAppliedRevision, good);
    assert.equal(failed.errors.map((e: any) => `${e.file}:${e.line}:${e.column}`), ['deploy/prod/kustomization.yaml:1:22']);
    assert.match(failed.errors[0].message, /"https:\/\/example\.com\/extra\.yaml" is a URL: remote bases are refused/);
  } finally {
    await serve?.stop();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('plan reviews a branch that changes an overlay patch as an update of the built object', async () => {
  if (await kustomizeMissing('plan with kustomize')) return;
  const repo = makeRepo(files(2));
  const cache = mkdtempSync(join(tmpdir(), 'convergit-cache-'));
  try {
    repo.git('checkout', '-q', '-b', 'feature');
    repo.write('deploy/prod/replicas.yaml', files(4)['deploy/prod/replicas.yaml']);
    repo.commit('prod: 4 replicas');
    const stdout = await new Promise<string>((resolve, reject) => execFile(process.execPath, [BIN, 'plan', '--repo', repo.dir, '--ref', 'feature', '--path', 'deploy', '--output', 'json'],
      { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache } }, (err, out, errOut) => (err && err.code !== 0 ? reject(new Error(`${out}\n${errOut}`)) : resolve(out))));
    const plan = JSON.parse(stdout);
    assert.ok(plan.valid);
    assert.equal(plan.changes.map((c: any) => `${c.action} ${c.kind}/${c.name}`), ['update Deployment/prod-web']);
    assert.is(plan.changes[0].file, 'deploy/prod/kustomization.built.yaml');
    assert.ok(readdirSync(join(cache, 'convergit', 'builds')).length >= 2, 'the ref and its base were built and cached');
  } finally {
    repo.cleanup();
    rmSync(cache, { recursive: true, force: true });
  }
});

test.run();
