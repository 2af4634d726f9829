// A restart restarts nothing: `serve` killed with SIGKILL or stopped with SIGTERM leaves its pods' containers running,
// and the next serve re-adopts them (same processes, same restartCount), restarting only what died meanwhile.
// `convergit stop` stops everything. Real serve processes, real containers, requests through the NodePort.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
const SERVER = `const http = require('node:http');
const server = http.createServer((req, res) => { if (req.url !== '/') console.log('GET ' + req.url); res.end(process.env.VERSION + ' ' + process.pid + '\\n'); });
server.listen(8080, process.env.POD_IP);
process.on('SIGTERM', () => process.exit(0)); // as many apps do: no draining of its own
`;
const manifests = (version: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: 2
  selector:
    matchLabels: { app: echo }
  template:
    metadata:
      labels: { app: echo }
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: echo
          image: git:apps/echo
          command: ["node", "server.js"]
          env:
            - { name: VERSION, value: "${version}" }
          ports:
            - containerPort: 8080
          readinessProbe:
            tcpSocket: { port: 8080 }
            periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: echo
spec:
  type: NodePort
  selector: { app: echo }
  ports:
    - port: 80
      targetPort: 8080
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess | undefined;
const ARGS = () => ['--repo', repo.dir, '--data-dir', dataDir, '--restart-backoff', '200ms'];

const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
const pidOf = (p: any) => Number(String(p.status?.containerStatuses?.[0]?.containerID ?? '').replace('process://', ''));
const alive = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2)[0]);
  } catch {
    return false;
  }
};
/** Live processes whose environment names this pod uid. */
const processesOf = (uid: string) => readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((pid) => {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(`CONVERGIT_POD_UID=${uid}`) && alive(Number(pid));
  } catch {
    return false;
  }
}).map(Number);

/** The Deployment's pods once both run, ready, and nothing else is left; by name. */
async function converged(s: ServeProcess, what: string) {
  return until(async () => {
    const pods = (await s.get('/api/v1/namespaces/default/pods?labelSelector=app%3Decho')).body.items as any[];
    const d = (await s.get('/apis/apps/v1/namespaces/default/deployments/echo')).body;
    const ok = pods.length === 2 && pods.every((p) => ready(p) && !p.metadata.deletionTimestamp && p.status.containerStatuses[0].state.running)
      && d.status?.availableReplicas === 2 && d.status?.updatedReplicas === 2 && d.status?.replicas === 2;
    return ok && new Map(pods.map((p) => [p.metadata.name, p]));
  }, what, 30_000);
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`))));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
const nodePort = async (s: ServeProcess) => until(async () => (await s.get('/api/v1/namespaces/default/services/echo')).body.spec?.ports?.[0]?.nodePort, 'a node port');

function run(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('exit', (code) => { clearTimeout(timer); resolve({ code, out }); });
  });
}

test.before(() => {
  repo = makeRepo({ 'echo.yaml': manifests('v1'), 'apps/echo/server.js': SERVER });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-restart-'));
});

test.after(async () => {
  await run(['stop', '--data-dir', dataDir]); // whatever a failed test left running
  await serve?.stop();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('kill -9 of serve: the next serve re-adopts the running pods and restarts only the one that died meanwhile', async () => {
  serve = await startServe(ARGS());
  const before = await converged(serve, 'two echo pods ready');
  const [a, b] = [...before.values()];
  assert.is((await serve.stop('SIGKILL')), null);
  serve = undefined;
  assert.ok(alive(pidOf(a)) && alive(pidOf(b)), 'the containers outlive serve');
  process.kill(pidOf(a), 'SIGKILL'); // one dies while no serve runs
  await until(() => !alive(pidOf(a)), 'a to die');

  serve = await startServe(ARGS());
  const upAt = Date.now();
  // Until the node reports, the API serves the statuses the killed serve last wrote: wait for the dead one's restart.
  const s = serve;
  const after = await until(async () => { const now = await converged(s, 'converged again'); return pidOf(now.get(a.metadata.name)) !== pidOf(a) && now; }, 'the dead one restarted', 30_000);
  console.log(`    converged ${Date.now() - upAt} ms after the new serve was up`);
  assert.equal([...after.keys()].sort(), [...before.keys()].sort(), 'the same pods, none added');
  const [a2, b2] = [after.get(a.metadata.name), after.get(b.metadata.name)];
  assert.is(pidOf(b2), pidOf(b), 'the healthy pod is the same process');
  assert.is(b2.status.containerStatuses[0].restartCount, b.status.containerStatuses[0].restartCount);
  assert.is.not(pidOf(a2), pidOf(a), 'the dead one was started again');
  assert.is(a2.status.containerStatuses[0].restartCount, a.status.containerStatuses[0].restartCount + 1);
  assert.equal(processesOf(a.metadata.uid), [pidOf(a2)], 'one process per pod');
  assert.equal(processesOf(b.metadata.uid), [pidOf(b)]);
  // And the Service reaches them through the new serve's proxy.
  assert.match(await get(`http://127.0.0.1:${await nodePort(serve)}/`), /^v1 \d+/);
});

test('SIGTERM (as Ctrl-C) stops serve but not the pods; the next serve re-adopts every one', async () => {
  const before = await converged(serve!, 'two echo pods ready');
  // A line logged while serve runs, and one while it is down: each keeps a time through the restart (log-times.ts).
  const [p] = [...before.values()];
  const stamped = async (s: ServeProcess) => (await s.get(`/api/v1/namespaces/default/pods/${p.metadata.name}/log?timestamps=true`)).text
    .split('\n').filter((l) => / GET \//.test(l)).map((l) => ({ at: Date.parse(l.split(' ')[0]), text: l.slice(l.indexOf(' ') + 1) }));
  await get(`http://${p.status.podIP}:8080/up`);
  const [up] = await until(async () => { const l = await stamped(serve!); return l.length === 1 && l; }, 'the first line indexed');
  assert.ok(up.at > 0, 'a time on the line written while serve ran');
  assert.is(await serve!.stop('SIGTERM'), 0);
  serve = undefined;
  for (const p of before.values()) assert.ok(alive(pidOf(p)), `${p.metadata.name} runs on`);
  await get(`http://${p.status.podIP}:8080/down`);
  serve = await startServe(ARGS());
  const after = await converged(serve, 'converged again');
  for (const [name, p] of before) {
    assert.is(pidOf(after.get(name)), pidOf(p), `${name}: the same process`);
    assert.is(after.get(name).status.containerStatuses[0].restartCount, p.status.containerStatuses[0].restartCount);
    // Never out of its Services meanwhile: had it gone NotReady and back, its Ready condition would have moved.
    const readySince = (x: any) => x.status.conditions.find((c: any) => c.type === 'Ready').lastTransitionTime;
    assert.is(readySince(after.get(name)), readySince(p), `${name}: Ready all along`);
  }
  const lines = await stamped(serve);
  assert.equal(lines.map((l) => l.text), ['GET /up', 'GET /down']);
  assert.is(lines[0].at, up.at, 'the line seen by the first serve keeps its time');
  // Stamped by the second serve with the file's last write (the filesystem's clock, coarser than Date.now()).
  assert.ok(lines[1].at > up.at && lines[1].at <= Date.now(), 'the line written while serve was down: after the first, not in the future');
});

test('convergit stop stops serve and every container; the next serve starts the pods again', async () => {
  const before = await converged(serve!, 'two echo pods ready');
  const servePid = serve!.pid;
  const out = await run(['stop', '--data-dir', dataDir]);
  assert.is(out.code, 0, out.out);
  assert.match(out.out, new RegExp(`stopping convergit serve \\(pid ${servePid}`));
  assert.match(out.out, /stopped 2 container\(s\) of 2 pod\(s\)/);
  assert.is(await serve!.stop(), 0, 'serve exited on its own, cleanly');
  serve = undefined;
  for (const p of before.values()) assert.not.ok(alive(pidOf(p)), `${p.metadata.name} is stopped`);
  for (const p of before.values()) assert.equal(processesOf(p.metadata.uid), []);
  const again = await run(['stop', '--data-dir', dataDir]);
  assert.match(again.out, /no container was running/);

  serve = await startServe(ARGS());
  // Until the node reports, the API serves the statuses the stopped serve last wrote: wait for the new processes.
  const s = serve;
  const after = await until(async () => {
    const now = await converged(s, 'started again');
    return [...before].every(([name, p]) => now.has(name) && pidOf(now.get(name)) !== pidOf(p)) && now;
  }, 'the pods running new processes', 30_000);
  for (const [name, p] of before) assert.ok(alive(pidOf(after.get(name))), `${name} runs again (pid ${pidOf(after.get(name))}, was ${pidOf(p)})`);
});

test('convergit stop --grace-period: a container ignoring SIGTERM is killed after that many seconds, not its pod\'s grace', async () => {
  // Its grace (10 minutes) is far past run()'s 60 s: the stop ends in time only by the flag.
  repo.write('stubborn.yaml', `apiVersion: v1
kind: Pod
metadata: { name: stubborn }
spec:
  terminationGracePeriodSeconds: 600
  containers:
    - name: main
      image: git:apps/echo
      command: ["sh", "-c", "trap '' TERM; echo ready; while :; do sleep 1; done"]
`);
  const rev = repo.commit('a pod that ignores SIGTERM');
  const s = serve!;
  const pod = await until(async () => {
    const p = (await s.get('/api/v1/namespaces/default/pods/stubborn')).body;
    return (await s.get('/status')).body.lastAppliedRevision === rev && p.status?.containerStatuses?.[0]?.state?.running && p;
  }, 'the stubborn pod running', 30_000);
  const out = await run(['stop', '--data-dir', dataDir, '--grace-period', '1']);
  assert.is(out.code, 0, out.out);
  assert.match(out.out, /stopped 3 container\(s\) of 3 pod\(s\)/);
  assert.is(await s.stop(), 0, 'serve exited on its own, cleanly');
  serve = undefined;
  assert.equal(processesOf(pod.metadata.uid), []);
  const bad = await run(['stop', '--data-dir', dataDir, '--grace-period', 'soon']);
  assert.is(bad.code, 1, bad.out);
  assert.match(bad.out, /--grace-period/);
});

test.run();
