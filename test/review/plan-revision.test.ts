// planRevision over real repositories: the files behind a `git:` image that moves, a CI job's shallow clone
// (one commit, as actions/checkout makes it) planned against a server whose image tree the clone does not hold,
// and the pull request that adds the manifests folder, planned against a base without it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, runGit } from '../support/git-repo.ts';
import { settledLive } from '../support/simulated-live.ts';
import { node } from './workload-builders.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { loadDesired } from '../../src/sync/desired.ts';
import { planRevision } from '../../src/review/plan-revision.ts';

const worker = `apiVersion: apps/v1
kind: Deployment
metadata: { name: worker }
spec:
  replicas: 1
  selector: { matchLabels: { app: worker } }
  template:
    metadata: { labels: { app: worker } }
    spec:
      containers:
        - name: worker
          image: git:apps/worker
          command: ["node", "worker.js"]
          resources: { requests: { cpu: 100m } }
`;

test('a git: image that moves: the files of its folder that changed; a clone without the live tree still plans', async () => {
  const repo = makeRepo({ 'worker.yaml': worker, 'apps/worker/worker.js': 'console.log(1);\n' });
  const data = mkdtempSync(join(tmpdir(), 'convergit-plan-revision-'));
  const shallow = join(data, 'shallow');
  try {
    const mainSha = repo.git('rev-parse', 'HEAD');
    repo.git('checkout', '-q', '-b', 'feature');
    repo.write('apps/worker/worker.js', 'console.log(2);\n');
    repo.commit('worker: 2');
    // What the server runs: main, applied and settled on one node.
    const full = new GitSource({ repo: repo.dir, branch: 'main', path: '', dataDir: data, interval: 0 });
    const applied = await loadDesired(await full.read(mainSha), full, {});
    const live = { live: settledLive(applied.objects.map((d) => d.object), [node('n1')]), lastApplied: mainSha };
    const against = { live, source: 'server' as const, name: 'http://127.0.0.1:7480' };

    const report = await planRevision(full, { ref: 'feature', path: '' }, against);
    const [change] = report.changes;
    assert.equal(change.images?.map((i) => [i.container, i.dir, i.files]), [['worker', 'apps/worker', [{ path: 'apps/worker/worker.js', change: 'modified' }]]]);

    // A depth-1 clone of the branch holds its own trees only, not the one the server runs.
    runGit(data, 'clone', '-q', '--depth', '1', '--branch', 'feature', `file://${repo.dir}`, shallow);
    const ci = new GitSource({ repo: shallow, branch: 'feature', path: '', dataDir: data, interval: 0 });
    const fromCi = await planRevision(ci, { ref: 'feature', path: '' }, against);
    assert.is(fromCi.valid, true);
    assert.equal(fromCi.changes.map((c) => `${c.action} ${c.kind}/${c.name}`), ['update Deployment/worker']);
    // The diff still names both trees; only the file list, which needs the live tree, is left out.
    assert.equal(fromCi.changes[0].diff, change.diff);
    assert.is(fromCi.changes[0].images, undefined);
  } finally {
    repo.cleanup();
    rmSync(data, { recursive: true, force: true });
  }
});

test('--path a folder the base does not have yet: everything in it is created, as serve would', async () => {
  const repo = makeRepo({ 'README.md': 'manifests to come\n' });
  const data = mkdtempSync(join(tmpdir(), 'convergit-plan-revision-'));
  try {
    const base = repo.git('rev-parse', 'HEAD');
    repo.git('checkout', '-q', '-b', 'feature');
    repo.write('deploy/worker.yaml', worker);
    repo.write('apps/worker/worker.js', 'console.log(1);\n');
    repo.commit('deploy: the worker');
    const source = new GitSource({ repo: repo.dir, branch: 'main', path: 'deploy', dataDir: data, interval: 0 });
    const report = await planRevision(source, { ref: 'feature', path: 'deploy' }, { branch: 'main' });
    assert.is(report.valid, true);
    assert.equal(report.against, { source: 'base', name: 'merge base with main', sha: base });
    assert.equal(report.changes.map((c) => `${c.action} ${c.kind}/${c.name} ${c.file}`), ['create Deployment/worker deploy/worker.yaml']);
    // Paths are the repository's, as a pull request shows them. The ref itself without the folder is still an error.
    repo.git('checkout', '-q', 'main');
    try {
      await planRevision(source, { ref: 'main', path: 'deploy' }, { base: 'feature', branch: 'main' });
      assert.unreachable('main has no deploy folder');
    } catch (e) {
      assert.match((e as Error).message, /path 'deploy' is missing/);
    }
  } finally {
    repo.cleanup();
    rmSync(data, { recursive: true, force: true });
  }
});

test('an invalid base is compared with what of it loaded, and the report says so', async () => {
  const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { level: "${v}" }\n`;
  const repo = makeRepo({ 'settings.yaml': cm('info'), 'broken.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: broken }\ndata: 7\n' });
  const data = mkdtempSync(join(tmpdir(), 'convergit-plan-revision-'));
  try {
    const base = repo.git('rev-parse', 'HEAD');
    repo.git('checkout', '-q', '-b', 'fix');
    repo.write('broken.yaml', 'apiVersion: v1\nkind: ConfigMap\nmetadata: { name: broken }\ndata: { n: "7" }\n');
    repo.commit('fix broken');
    const source = new GitSource({ repo: repo.dir, branch: 'main', path: '', dataDir: data, interval: 0 });
    await source.prepare();
    const report = await planRevision(source, { ref: 'fix', path: '' }, { branch: 'main' });
    assert.ok(report.valid);
    assert.equal(report.warnings.map((w) => w.code), ['BaseInvalid']);
    assert.match(report.warnings[0].message, `the base revision ${base.slice(0, 7)} has 1 validation error: serve would still run an earlier revision`);
    const clean = await planRevision(source, { ref: 'fix', path: '' }, { base: 'fix', branch: 'main' });
    assert.equal(clean.warnings, [], 'a valid base: no such warning');
  } finally {
    repo.cleanup();
    rmSync(data, { recursive: true, force: true });
  }
});

test.run();
