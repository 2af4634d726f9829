// The CLI as a user meets it: validate's output and exit codes, --help, the example repository of `npm start`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { cli, runCli } from '../support/cli.ts';
import { runGit } from '../support/git-repo.ts';


const pod = (extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: p
spec:
  containers:
    - name: c
      image: busybox:1.36
${extra}`;

test('validate: exit 0 on a valid revision, 1 with file:line:column: kind/name: field: message', async () => {
  const repo = makeRepo({ 'k8s/pod.yaml': pod() });
  try {
    const ok = await cli('validate', '--repo', repo.dir);
    assert.is(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /1 object\(s\) in 1 file\(s\): 0 error\(s\)/);
    repo.write('k8s/pod.yaml', pod('      stdin: true\n  restartPolicy: Sometimes\n'));
    const bad = repo.commit('bad');
    const r = await cli('validate', '--repo', repo.dir);
    assert.is(r.code, 1);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.includes('k8s/pod.yaml:10:3: Pod/p: spec.restartPolicy: must be one of Always, OnFailure, Never'), r.stdout);
    assert.ok(lines.some((l) => /^k8s\/pod\.yaml:9:7: Pod\/p: spec\.containers\[0\]\.stdin: warning: .*not implement/.test(l)), r.stdout);
    // An earlier revision by ref, and --strict turning the warning into an error.
    assert.is((await cli('validate', '--repo', repo.dir, '--ref', 'HEAD~1')).code, 0);
    repo.write('k8s/pod.yaml', pod('      stdin: true\n'));
    repo.commit('only a warning');
    assert.is((await cli('validate', '--repo', repo.dir)).code, 0);
    assert.is((await cli('validate', '--repo', repo.dir, '--strict')).code, 1);
    assert.is((await cli('validate', '--repo', repo.dir, '--ref', bad.slice(0, 8))).code, 1);
    const missing = await cli('validate', '--repo', repo.dir, '--ref', 'nope');
    assert.is(missing.code, 2);
    assert.match(missing.stderr, /nope/);
  } finally {
    repo.cleanup();
  }
});

test('validate: a cold load of hundreds of files, in worker threads, says what the one thread says', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 240; i++) files[`k8s/team-${i % 8}/cm-${i}.yaml`] = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  v: ${i % 50 ? `"${i}"` : i}\n`;
  const repo = makeRepo(files);
  const caches = mkdtempSync(path.join(tmpdir(), 'convergit-cli-cache-'));
  try {
    // Each run cold (a cache folder of its own); '1' makes a worker that cannot start (the bundle's) a failure.
    const run = (workers: string) => runCli(['validate', '--repo', repo.dir], { CONVERGIT_PARSE_WORKERS: workers, XDG_CACHE_HOME: path.join(caches, workers) });
    const [pooled, alone] = [await run('1'), await run('0')];
    assert.is(pooled.code, 1, pooled.stderr);
    assert.match(pooled.stdout, /^k8s\/team-0\/cm-0\.yaml:6:3: ConfigMap\/cm-0: data\.v: must be a string/m);
    assert.equal([pooled.code, pooled.stdout, pooled.stderr], [alone.code, alone.stdout, alone.stderr]);
    // plan reads the ref (its files to the workers as they are read) and then its base (loaded on its own).
    for (let i = 0; i < 240; i++) if (i % 3 === 0 || i % 50 === 0) repo.write(`k8s/team-${i % 8}/cm-${i}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  v: "changed"\n`);
    repo.commit('a third changed, the errors mended');
    const plan = (workers: string) => runCli(['plan', '--repo', repo.dir, '--ref', 'HEAD', '--base', 'HEAD~1', '--output', 'json'], { CONVERGIT_PARSE_WORKERS: workers, XDG_CACHE_HOME: path.join(caches, `plan-${workers}`) });
    const [pooledPlan, alonePlan] = [await plan('1'), await plan('0')];
    assert.ok(JSON.parse(pooledPlan.stdout).changes.length >= 80, pooledPlan.stdout.slice(0, 500) + pooledPlan.stderr);
    assert.equal([pooledPlan.code, pooledPlan.stdout, pooledPlan.stderr], [alonePlan.code, alonePlan.stdout, alonePlan.stderr]);
  } finally {
    repo.cleanup();
    rmSync(caches, { recursive: true, force: true });
  }
});

test('--help documents every serve flag with its default', async () => {
  const r = await cli('serve', '--help');
  for (const flag of ['--repo', '--branch', '--path', '--data-dir', '--host', '--port', '--interval', '--strict']) assert.match(r.stdout, new RegExp(flag));
  assert.match(r.stdout, /default: "main"/);
  assert.match(r.stdout, /default: 7480/);
});

test('serve refuses bad log rotation and image gc flags, naming them', async () => {
  for (const [args, message] of [
    [['--container-log-max-size', '10XB'], /--container-log-max-size <size>' argument '10XB' is invalid\. "10XB" is not a size such as 10Mi/],
    [['--container-log-max-files', '1'], /--container-log-max-files <n>' argument '1' is invalid\. "1" is fewer than 2/],
    [['--image-gc-high-threshold', '101'], /"101" is not a percent \(0-100\)/],
    [['--image-gc-low-threshold', '90'], /--image-gc-low-threshold \(90\) must be less than --image-gc-high-threshold \(85\)/],
  ] as const) {
    const r = await cli('serve', '--repo', '.', '--data-dir', '/nonexistent/convergit', ...args);
    assert.is.not(r.code, 0, args.join(' '));
    assert.match(r.stderr, message);
  }
});

test('serve --example (npm start) seeds a repository from examples-repo and applies it', async () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-example-'));
  const serve = await startServe(['--example', '--data-dir', dataDir]);
  try {
    const repoDir = path.join(dataDir, 'example-repo');
    assert.match(serve.output(), new RegExp(`Created the example repository at ${repoDir}`));
    assert.match(serve.output(), /git commit -am/);
    const head = runGit(repoDir, 'rev-parse', 'HEAD');
    const s = await until(async () => { const s = (await serve.get('/status')).body; return s.lastAppliedRevision === head && s; }, 'example applied');
    assert.equal(s.errors, []);
    const names = async (path: string) => (await serve.get(path)).body.items.map((d: any) => d.metadata.name).sort();
    assert.equal(await names('/apis/apps/v1/namespaces/default/deployments'), ['web']);
    assert.equal(await names('/apis/apps/v1/namespaces/default/statefulsets'), ['backend']);
    assert.equal(await names('/apis/batch/v1/namespaces/default/cronjobs'), ['backup']);
    const claims = await until(async () => { const n = await names('/api/v1/namespaces/default/persistentvolumeclaims'); return n.length === 2 && n; }, 'the two claims');
    assert.equal(claims, ['backups', 'data-backend-0']);
  } finally {
    assert.is(await serve.stop('SIGINT'), 0);
    assert.ok(existsSync(path.join(dataDir, 'state.json')), 'state written on shutdown');
    await serve.shutdown(); // Ctrl-C leaves the example's pods running: `convergit stop` stops them
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
