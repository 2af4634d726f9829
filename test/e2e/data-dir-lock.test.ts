// One serve per data folder: two real `convergit serve` processes on one folder; the second exits at once naming the
// first, which goes on untouched (its pod too); readers still read; a kill -9 frees the folder for the next serve.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
const sleeper = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: sleeper
spec:
  replicas: 1
  selector:
    matchLabels: { app: sleeper }
  template:
    metadata:
      labels: { app: sleeper }
    spec:
      terminationGracePeriodSeconds: 2
      containers:
        - name: main
          image: git:apps/sleeper
          command: ["node", "-e", "setInterval(() => {}, 1000)"]
`;

let repo: TestRepo, dataDir: string, first: ServeProcess | undefined;

/** Runs convergit to its end (killed after 30 s: a second serve that is not refused would never end). */
function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
const runningPid = async (s: ServeProcess) => until(async () => {
  const pods = (await s.get('/api/v1/namespaces/default/pods')).body.items as any[];
  const id: string | undefined = pods[0]?.status?.containerStatuses?.[0]?.containerID;
  return pods.length === 1 && pods[0].status.containerStatuses[0].state.running && id ? Number(id.slice('process://'.length)) : undefined;
}, 'the pod to run', 30_000);

test.before(() => {
  repo = makeRepo({ 'sleeper.yaml': sleeper, 'apps/sleeper/README': 'no files needed\n' });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-lock-'));
});

test.after(async () => {
  await first?.stop();
  await run(['stop', '--data-dir', dataDir]); // the containers serve leaves running
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a second serve on the same data folder exits at once, naming the first; the first and its pod go on', async () => {
  first = await startServe(['--repo', repo.dir, '--data-dir', dataDir]);
  const pid = await runningPid(first);
  const owner = JSON.parse(readFileSync(path.join(dataDir, 'serve.json'), 'utf8'));
  assert.equal([owner.pid, owner.url, owner.command], [first.pid, first.url, 'serve']);

  const second = await run(['serve', '--repo', repo.dir, '--data-dir', dataDir, '--port', '0']);
  assert.is.not(second.code, 0, second.out);
  assert.ok(second.out.includes(`pid ${first.pid}`), second.out);
  assert.ok(second.out.includes(first.url), second.out);
  assert.match(second.out, /is in use by convergit serve/);
  assert.match(second.out, /convergit stop --data-dir/);
  assert.not.match(second.out, /serving http/);

  // The first one was not disturbed: same pod process, still answering, still the owner.
  assert.ok(alive(pid));
  assert.is(await runningPid(first), pid);
  assert.is((await first.get('/status')).status, 200);
  assert.is(JSON.parse(readFileSync(path.join(dataDir, 'serve.json'), 'utf8')).pid, first.pid);
});

test('readers do not need the lock: history and plan --data-dir read the folder while serve owns it', async () => {
  const history = await run(['history', '--data-dir', dataDir]);
  assert.is(history.code, 0, history.out);
  assert.match(history.out, /initial/);
  const plan = await run(['plan', '--repo', repo.dir, '--ref', 'HEAD', '--data-dir', dataDir]);
  assert.is(plan.code, 0, plan.out);
  const validate = await run(['validate', '--repo', repo.dir]);
  assert.is(validate.code, 0, validate.out);
});

test('kill -9 frees the folder at once: the next serve starts, although the first one\'s containers outlived it', async () => {
  const pid = await runningPid(first!);
  assert.is(await first!.stop('SIGKILL'), null);
  assert.ok(alive(pid), 'the container outlives a killed serve');
  first = await startServe(['--repo', repo.dir, '--data-dir', dataDir]); // the container does not hold the lock
  assert.is(JSON.parse(readFileSync(path.join(dataDir, 'serve.json'), 'utf8')).pid, first.pid);
  await runningPid(first);
});

test('a serve that stops removes serve.json and the next one takes the folder', async () => {
  assert.is(await first!.stop(), 0);
  first = undefined;
  assert.not.ok(existsSync(path.join(dataDir, 'serve.json')));
  const again = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--nodes', '0']);
  assert.is(await again.stop(), 0);
});

test.run();
