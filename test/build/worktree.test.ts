// `convergit validate --worktree`: the working tree as it is on disk, through the real CLI, and as a git
// pre-commit hook that a real `git commit` runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { chmodSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { tempDir } from '../support/temp-dir.ts';
import { BIN, runCli, type CliResult } from '../support/cli.ts';
import { configMap, deployment, kustomizeMissing } from './helpers.ts';

/** The CLI with a private build cache (and `env` on top of this process's environment). */
async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  const cache = tempDir('convergit-cache-');
  return runCli(args, { XDG_CACHE_HOME: cache, ...env });
}

test('--worktree checks uncommitted and untracked files, and leaves out what .gitignore excludes', async () => {
  const repo = makeRepo({ 'k8s/cm.yaml': configMap('settings'), '.gitignore': 'k8s/generated/\n' });
  try {
    repo.write('k8s/web.yaml', deployment('web', '\n        imagePullPolicy: Nevr')); // untracked
    repo.write('k8s/generated/junk.yaml', 'not: [valid'); // ignored by git
    // Touched but unchanged: reading must still not rewrite the index (a pre-commit hook runs under git's index.lock).
    utimesSync(join(repo.dir, 'k8s/cm.yaml'), new Date(), new Date(Date.now() + 5000));
    const index = readFileSync(join(repo.dir, '.git/index'));
    const bad = await cli(['validate', '--worktree', '--repo', repo.dir]);
    assert.is(bad.code, 1, bad.stderr);
    assert.ok(readFileSync(join(repo.dir, '.git/index')).equals(index), 'the index is not rewritten');
    assert.is(bad.stdout, 'k8s/web.yaml:18:9: Deployment/web: spec.template.spec.containers[0].imagePullPolicy: must be one of Always, IfNotPresent, Never\n');
    assert.match(bad.stderr, /^working tree: 1 object\(s\) in 2 file\(s\): 1 error\(s\), 0 warning\(s\)/m);
    const committed = await cli(['validate', '--repo', repo.dir]);
    assert.is(committed.code, 0, 'the commit itself is still valid: only the working tree is not');
    repo.write('k8s/web.yaml', deployment('web'));
    const good = await cli(['validate', '--worktree', '--repo', repo.dir, '--path', 'k8s']);
    assert.is(good.code, 0, good.stdout + good.stderr);
    assert.match(good.stderr, /^working tree: 2 object\(s\) in 2 file\(s\): 0 error\(s\)/m);
    repo.remove('k8s/cm.yaml'); // deleted, not yet committed
    const deleted = await cli(['validate', '--worktree', '--repo', repo.dir]);
    assert.match(deleted.stderr, /^working tree: 1 object\(s\) in 1 file\(s\)/m);
  } finally {
    repo.cleanup();
  }
});

test('--worktree builds an uncommitted kustomization from the files on disk; git images are checked', async () => {
  if (await kustomizeMissing('worktree kustomization')) return;
  const repo = makeRepo({ 'apps/web/server.js': 'v1' });
  try {
    repo.write('deploy/kustomization.yaml', 'resources: [web.yaml]\nnamePrefix: new-\n');
    repo.write('deploy/web.yaml', deployment('web').replace('image: busybox', 'image: git:apps/web'));
    const ok = await cli(['validate', '--worktree', '--repo', repo.dir]);
    assert.is(ok.code, 0, ok.stdout + ok.stderr);
    assert.match(ok.stderr, /^working tree: 1 object\(s\)/m);
    repo.write('deploy/web.yaml', deployment('web').replace('image: busybox', 'image: git:apps/missing'));
    const bad = await cli(['validate', '--worktree', '--repo', repo.dir]);
    assert.is(bad.code, 1);
    assert.match(bad.stdout, /^deploy\/kustomization\.built\.yaml:\d+:\d+: Deployment\/new-web: spec\.template\.spec\.containers\[0\]\.image: "git:apps\/missing": no directory apps\/missing in the repository at working \(from deploy\/web\.yaml\)\n$/);
  } finally {
    repo.cleanup();
  }
});

test('without kustomize or kubectl on PATH, validate refuses a kustomization and says what to install', async () => {
  const repo = makeRepo({ 'app/kustomization.yaml': 'resources: [cm.yaml]\n', 'app/cm.yaml': configMap('settings') });
  try {
    const empty = tempDir('convergit-no-tools-');
    const r = await cli(['validate', '--repo', repo.dir], { PATH: empty });
    assert.is(r.code, 1);
    assert.is(r.stdout, 'app/kustomization.yaml:1:1: -: -: cannot build app: neither kustomize nor kubectl is on PATH; install kubectl (it includes kustomize) or kustomize (https://kubectl.docs.kubernetes.io/installation/kustomize/) and put it on PATH\n');
  } finally {
    repo.cleanup();
  }
});

test('as a pre-commit hook: git commit is refused on an invalid manifest and accepted on a valid one', async () => {
  const repo = makeRepo({ 'k8s/cm.yaml': configMap('settings') });
  try {
    const cache = tempDir('convergit-cache-');
    // The README's hook, with this checkout's convergit and node.
    const hook = join(repo.dir, '.git', 'hooks', 'pre-commit');
    writeFileSync(hook, `#!/bin/sh\nexec "${process.execPath}" "${BIN}" validate --worktree --repo . --path k8s\n`);
    chmodSync(hook, 0o755);
    const commit = () => spawnSync('git', ['commit', '-q', '-m', 'change'], { cwd: repo.dir, encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: cache, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' } });
    const head = repo.git('rev-parse', 'HEAD');

    repo.write('k8s/web.yaml', deployment('web', '\n        imagePullPolicy: Nevr'));
    repo.git('add', '-A');
    const refused = commit();
    assert.is.not(refused.status, 0);
    assert.match(refused.stdout + refused.stderr, /k8s\/web\.yaml:18:9: .*imagePullPolicy: must be one of Always, IfNotPresent, Never/);
    assert.is(repo.git('rev-parse', 'HEAD'), head, 'nothing was committed');

    repo.write('k8s/web.yaml', deployment('web'));
    repo.git('add', '-A');
    const accepted = commit();
    assert.is(accepted.status, 0, accepted.stdout + accepted.stderr);
    assert.is.not(repo.git('rev-parse', 'HEAD'), head);
    assert.is(repo.git('show', '--name-only', '--format=', 'HEAD'), 'k8s/web.yaml');
  } finally {
    repo.cleanup();
  }
});

test.run();
