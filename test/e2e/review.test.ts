// End to end, the pull-request workflow: a feature branch planned against a running serve (CLI and GET /plan),
// merged and observed Progressing → Healthy with a timeline; a bad merge seen Degraded with its reason, then
// rolled back with `convergit rollback`, the old ReplicaSet reused; `convergit history` telling the story.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const EXAMPLES = new URL('../../examples-repo/', import.meta.url).pathname;
const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;

let repo: TestRepo, dataDir: string, serve: ServeProcess;

/** Runs the convergit CLI as a process: its exit code and output. */
function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { encoding: 'utf8' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

const status = async () => (await serve.get('/status')).body;
const entryOf = async (sha: string) => (await status()).history.find((h: any) => h.sha === sha);
const replicaSets = async () => ((await serve.get('/apis/apps/v1/namespaces/default/replicasets')).body.items as any[]);

/** Waits until `sha` is applied and its health is `want`; returns the health states seen on the way and that /status. */
async function healthOf(sha: string, want: string, timeoutMs = 30_000): Promise<{ seen: string[]; status: any }> {
  const seen: string[] = [];
  const matched = await until(async () => {
    const s = await status();
    if (s.lastAppliedRevision !== sha || s.health?.revision !== sha) return false;
    if (seen.at(-1) !== s.health.status) seen.push(s.health.status);
    return s.health.status === want && s;
  }, `${sha.slice(0, 7)} to be ${want}`, timeoutMs);
  return { seen, status: matched };
}

test.before(async () => {
  const files: Record<string, string> = {};
  for (const f of ['greeting.yaml', 'apps/web/server.js']) files[f] = readFileSync(path.join(EXAMPLES, f), 'utf8');
  // Two replicas keep it quick; no fixed node port: another convergit on this machine may hold 30080.
  files['web.yaml'] = readFileSync(path.join(EXAMPLES, 'web.yaml'), 'utf8').replace(/\n\s*nodePort: \d+/, '').replace(/replicas: \d+/, 'replicas: 2');
  repo = makeRepo(files);
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-review-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--node-cpu', '4', '--node-memory', '4Gi', '--restart-backoff', '200ms', '--restart-backoff-max', '1s']);
});

test.after(async () => {
  await serve?.shutdown();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('the first revision goes Healthy, with its timeline', async () => {
  const sha = repo.git('rev-parse', 'HEAD');
  await healthOf(sha, 'Healthy');
  const h = await entryOf(sha);
  assert.is(h.health, 'Healthy');
  assert.ok(Date.parse(h.detectedAt) <= Date.parse(h.appliedAt) && Date.parse(h.appliedAt) <= Date.parse(h.healthyAt), JSON.stringify(h));
  const s = await status();
  assert.is(s.sync, 'Synced');
  assert.equal(s.health.reasons, []);
  assert.ok(s.objects.every((o: any) => o.health === 'Healthy'), JSON.stringify(s.objects));
});

test('a feature branch is planned against the running server, merged, and observed Progressing → Healthy', async () => {
  const main = repo.git('rev-parse', 'HEAD');
  repo.git('checkout', '-q', '-b', 'feature');
  repo.write('apps/web/server.js', readFileSync(path.join(EXAMPLES, 'apps/web/server.js'), 'utf8').replace(/const VERSION = '[^']*'/, "const VERSION = 'v2'"));
  repo.commit('web: v2');
  repo.git('checkout', '-q', 'main');

  const md = await cli('plan', '--repo', repo.dir, '--ref', 'feature', '--server', serve.url, '--output', 'markdown');
  assert.is(md.code, 0, md.stderr);
  assert.match(md.stdout, /Deployment default\/web/);
  assert.match(md.stdout, /replaces 2 pods/);
  assert.match(md.stdout, /git:apps\/web@/); // the image diff names the new tree
  assert.is((await cli('plan', '--repo', repo.dir, '--ref', 'feature', '--server', serve.url, '--detailed-exitcode')).code, 2);
  assert.is((await cli('plan', '--repo', repo.dir, '--ref', 'main', '--server', serve.url, '--detailed-exitcode')).code, 0, 'main is what runs');

  const res = await serve.get('/plan?ref=feature');
  assert.is(res.status, 200);
  assert.is(res.body.kind, 'PlanReport');
  assert.ok(res.body.valid && res.body.schedulable && res.body.changed);
  assert.equal(res.body.changes.map((c: any) => `${c.action} ${c.kind}/${c.name}`), ['update Deployment/web']);
  assert.is(res.body.rollouts[0].action, 'replace');
  assert.is(res.body.against.sha, main);
  assert.is((await serve.get('/plan?ref=no-such-branch')).status, 404);
  assert.is((await serve.get('/plan')).status, 400);

  repo.git('merge', '--no-ff', '-q', '-m', 'Merge feature: web v2', 'feature');
  const merged = repo.git('rev-parse', 'HEAD');
  const { seen } = await healthOf(merged, 'Healthy');
  // Readiness takes a probe period (1 s) per wave of new pods: long enough to be seen rolling out at every poll.
  assert.equal(seen, ['Progressing', 'Healthy'], seen.join(' → '));
  const h = await entryOf(merged);
  assert.ok(h.healthyAt && Date.parse(h.healthyAt) >= Date.parse(h.appliedAt), JSON.stringify(h));
  // Nothing was applied behind git's back by planning: the plan of main is now empty.
  assert.is((await serve.get('/plan?ref=main')).body.changed, false);
});

test('a bad merge is Degraded with the reason; convergit rollback reverts it and the old ReplicaSet comes back', async () => {
  const good = repo.git('rev-parse', 'HEAD');
  const before = await replicaSets();
  repo.git('checkout', '-q', '-b', 'broken');
  repo.write('apps/web/server.js', "console.error('cannot start: missing DATABASE_URL'); process.exit(1);\n");
  repo.commit('web: crash at start');
  repo.git('checkout', '-q', 'main');
  repo.git('merge', '--no-ff', '-q', '-m', 'Merge broken', 'broken');
  const bad = repo.git('rev-parse', 'HEAD');

  // The /status that said Degraded: a crash-looping pod is Running (not ready) for a moment between crashes.
  const { status: s } = await healthOf(bad, 'Degraded');
  assert.match(s.health.message, /Deployment .*web/);
  // CrashLoopBackOff while it waits to restart, or `Running, not ready, last terminated: Error` just after.
  assert.match(s.health.message, /rollout waiting on pod web-\S+ \((CrashLoopBackOff|.*Error)/);
  // The chain goes down to the pod, with its own reason.
  assert.ok(s.health.reasons.some((r: string) => /^Pod web-.*exit code 1/.test(r)), s.health.reasons.join('\n'));
  const degraded = await entryOf(bad);
  assert.ok(degraded.degradedAt && degraded.degradedReason, JSON.stringify(degraded));

  const rb = await cli('rollback', '--to', good, '--repo', repo.dir);
  assert.is(rb.code, 0, rb.stderr);
  assert.match(rb.stdout, /Revert "Merge broken"/);
  const revert = repo.git('rev-parse', 'HEAD');
  assert.is(repo.git('diff', good, revert), '');
  assert.is(repo.git('status', '--porcelain'), '');
  await healthOf(revert, 'Healthy');

  // The good template's ReplicaSet was scaled back up, not recreated.
  const after = await replicaSets();
  const active = after.filter((rs) => rs.spec.replicas > 0);
  assert.is(active.length, 1);
  assert.ok(before.some((rs) => rs.metadata.uid === active[0].metadata.uid), 'the ReplicaSet running before the bad merge runs again');

  const hist = await cli('history', '--server', serve.url);
  assert.is(hist.code, 0, hist.stderr);
  const lines = hist.stdout.split('\n');
  assert.match(lines[0], /REVISION\s+RESULT\s+HEALTH/);
  assert.ok(lines.some((l) => l.startsWith(revert.slice(0, 7)) && /Healthy/.test(l)), hist.stdout);
  assert.ok(lines.some((l) => l.startsWith(bad.slice(0, 7)) && /Degraded/.test(l)), hist.stdout);
});

test.run();
