// End to end with real processes: the example apps committed to a repository, run by `convergit serve`,
// reached over HTTP through their Services, changed, rolled out, reverted, deleted and restarted.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { Resolver } from 'node:dns/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { loadAll } from 'js-yaml';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { inCidr } from '../../src/model/ip-pool.ts';

const EXAMPLES = new URL('../../examples-repo/', import.meta.url).pathname;
const ARGS = ['--node-cpu', '4', '--node-memory', '4Gi', '--restart-backoff', '300ms', '--restart-backoff-max', '2s'];

let repo: TestRepo, dataDir: string, serve: ServeProcess;

const list = async (path: string) => (await serve.get(path)).body.items as any[];
const pods = (selector: string) => list(`/api/v1/namespaces/default/pods?labelSelector=${encodeURIComponent(selector)}`);
const deployment = async (name: string) => (await serve.get(`/apis/apps/v1/namespaces/default/deployments/${name}`)).body;
const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
const pidsOf = (ps: any[]) => ps.flatMap((p) => (p.status?.containerStatuses ?? []).flatMap((c: any) => {
  const id = c.containerID as string | undefined;
  return id?.startsWith('process://') && c.state?.running ? [Number(id.slice('process://'.length))] : [];
}));
const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

/** Applied, and every replica of the deployment updated and available, with no old pods left. */
async function rolledOut(name: string, replicas: number, what = `${name} rolled out with ${replicas} replica(s)`) {
  return until(async () => {
    const d = await deployment(name);
    const s = d.status ?? {};
    const ok = s.observedGeneration === d.metadata.generation && s.updatedReplicas === replicas && s.availableReplicas === replicas && s.replicas === replicas;
    const ps = (await pods(`app=${name}`)).filter((p) => !p.metadata.deletionTimestamp);
    return ok && ps.length === replicas && ps.every(ready) && d;
  }, what, 30_000);
}

const applied = (sha: string) => until(async () => (await serve.get('/status')).body.lastAppliedRevision === sha, `revision ${sha.slice(0, 7)} applied`);

/** One HTTP request (GET unless said) on a fresh connection. */
function get(url: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function nodePortUrl(service: string) {
  const svc = await until(async () => {
    const s = (await serve.get(`/api/v1/namespaces/default/services/${service}`)).body;
    return s.spec?.ports?.[0]?.nodePort && s;
  }, `${service} to get a node port`);
  return `http://127.0.0.1:${svc.spec.ports[0].nodePort}`;
}

const kubectl = (...args: string[]) => promisify(execFile)('kubectl', ['--server', serve.url, ...args], { encoding: 'utf8' });

test.before(async () => {
  const files: Record<string, string> = {};
  for (const f of ['greeting.yaml', 'backend.yaml', 'apps/web/server.js', 'apps/backend/server.js', 'apps/backend/backup.js']) files[f] = readFileSync(path.join(EXAMPLES, f), 'utf8');
  // No fixed node port: another convergit on this machine may hold 30080.
  files['web.yaml'] = readFileSync(path.join(EXAMPLES, 'web.yaml'), 'utf8').replace(/\n\s*nodePort: \d+/, '');
  repo = makeRepo(files);
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-workloads-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, ...ARGS]);
});

test.after(async () => {
  await serve?.shutdown();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The backend's pod backend-0 Ready; `unlike`: a uid it must not have (the pod was replaced). */
const backendReady = (what: string, unlike?: string) => until(async () => {
  const [p] = (await pods('app=backend')).filter((x) => !x.metadata.deletionTimestamp);
  return p?.metadata.name === 'backend-0' && p.metadata.uid !== unlike && ready(p) && p;
}, what, 30_000);

test('deploy: the frontend answers through its Service with its pod name, the greeting and the backend counter', async () => {
  await backendReady('backend-0 Ready');
  await rolledOut('web', 3);
  const web = await pods('app=web');
  const ips = web.map((p) => p.status.podIP);
  assert.is(new Set(ips).size, 3, 'each pod has its own address');
  const { clusterCIDR, serviceCIDR } = serve.blocks();
  assert.ok(ips.every((ip: string) => inCidr(ip, clusterCIDR)), `${ips.join()} in ${clusterCIDR}`);
  const url = await nodePortUrl('web');
  const first = JSON.parse((await get(`${url}/api`)).body);
  assert.is(first.greeting, 'Hello from convergit');
  assert.ok(web.some((p) => p.metadata.name === first.pod), `${first.pod} is one of the web pods`);
  assert.is(first.version, 'v1');
  const second = JSON.parse((await get(`${url}/api`)).body);
  // "unavailable" is the frontend's word for a backend it could not reach: what the backend pod was doing says why.
  const why = async () => `${JSON.stringify((await pods('app=backend')).map((p) => p.status))}\n${serve.output().slice(-3000)}`;
  if (typeof first.visits !== 'number' || second.visits !== first.visits + 1) assert.unreachable(`visits ${first.visits} then ${second.visits}: ${await why()}`);
  // The ClusterIP answers too, and Endpoints list the ready pods.
  const svc = (await serve.get('/api/v1/namespaces/default/services/web')).body;
  assert.ok(inCidr(svc.spec.clusterIP, serviceCIDR), `${svc.spec.clusterIP} in ${serviceCIDR}`);
  assert.is(JSON.parse((await get(`http://${svc.spec.clusterIP}:8080/api`)).body).greeting, 'Hello from convergit');
  // The cluster DNS of the process runtime (127.2.0.10; port 5353 when not root) answers the Service's name.
  const [, dnsIp, dnsPort] = /dns: cluster DNS on ([\d.]+):(\d+)/.exec(serve.output()) ?? [];
  const resolver = new Resolver({ timeout: 3000, tries: 2 });
  resolver.setServers([`${dnsIp}:${dnsPort}`]);
  assert.equal(await resolver.resolve4('web.default.svc.cluster.local'), [svc.spec.clusterIP]);
  const ep = (await serve.get('/api/v1/namespaces/default/endpoints/web')).body;
  assert.equal(ep.subsets[0].addresses.map((a: any) => a.ip).sort(), [...ips].sort());
  assert.equal(ep.subsets[0].ports, [{ name: 'http', port: 8080, protocol: 'TCP' }]);
  // serve prints where to open it; /status shows the rollout, the pods and the Service URL.
  assert.ok(serve.output().includes(`Service default/web (http): open ${url}/`), serve.output());
  const w = (await serve.get('/status')).body.workloads;
  const row = w.deployments.find((d: any) => d.name === 'web');
  assert.equal([row.rollout, row.ready, row.replicas, row.revision], ['Complete', 3, 3, '1']);
  assert.equal(w.services.find((x: any) => x.name === 'web').urls, [`${url}/`]);
  assert.is(w.pods.filter((p: any) => p.status === 'Running' && p.ready === '1/1').length, 4);
  const kv = await until(async () => {
    const row = (await serve.get('/status')).body.workloads.statefulSets.find((x: any) => x.name === 'backend');
    return row?.rollout === 'Complete' && row;
  }, 'the StatefulSet row Complete');
  assert.equal([kv.ready, kv.replicas, kv.claims], [1, 1, ['data']]);
  const page = (await serve.get('/')).text;
  assert.match(page, /<h2>Deployments<\/h2>/);
  assert.match(page, /<h2>StatefulSets<\/h2>.*<td>backend<\/td>.*<td>1\/1<\/td>.*<td>data-backend-0<\/td>/s);
});

test('kubectl get pods and kubectl logs work against the API', async () => {
  const { stdout } = await kubectl('get', 'pods', '-l', 'app=web', '-o', 'wide');
  assert.match(stdout, /NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+IP\s+NODE/);
  assert.is(stdout.trim().split('\n').filter((l) => /\s1\/1\s+Running\s/.test(l)).length, 3, stdout);
  const name = (await pods('app=web'))[0].metadata.name;
  const logs = await kubectl('logs', name);
  const ip = (await pods('app=web')).find((p) => p.metadata.name === name).status.podIP;
  assert.match(logs.stdout, `web v1 listening on ${ip}:8080`);
  // -f streams until stopped: the first line arrives, then the client hangs up.
  const follow = spawn('kubectl', ['--server', serve.url, 'logs', '-f', name], { stdio: ['ignore', 'pipe', 'pipe'] });
  let streamed = '';
  follow.stdout.on('data', (d) => (streamed += d));
  try {
    await until(() => /web v1 listening/.test(streamed), 'kubectl logs -f to stream');
    assert.is(follow.exitCode, null, 'still following');
  } finally {
    follow.kill();
  }
  const nodes = await kubectl('get', 'nodes');
  assert.match(nodes.stdout, /\sReady\s/);
});

test('scale up and down: pods started and stopped, no process left behind', async () => {
  repo.write('web.yaml', readFileSync(path.join(repo.work, 'web.yaml'), 'utf8').replace('replicas: 3', 'replicas: 5'));
  await applied(repo.commit('scale web to 5'));
  await rolledOut('web', 5);
  const before = await pods('app=web');
  repo.write('web.yaml', readFileSync(path.join(repo.work, 'web.yaml'), 'utf8').replace('replicas: 5', 'replicas: 2'));
  await applied(repo.commit('scale web to 2'));
  await rolledOut('web', 2);
  const after = await until(async () => { const ps = await pods('app=web'); return ps.length === 2 && ps; }, 'the extra pods removed');
  const gone = pidsOf(before.filter((p) => !after.some((a) => a.metadata.name === p.metadata.name)));
  assert.is(gone.length, 3);
  await until(() => gone.every((pid) => !alive(pid)), 'the stopped pods\' processes to exit');
});

test('a code change rolls out with no failed request through the Service; git revert reuses the old ReplicaSet', async () => {
  const url = await nodePortUrl('web');
  const oldRs = (await list('/apis/apps/v1/namespaces/default/replicasets')).filter((r) => r.metadata.name.startsWith('web-') && r.spec.replicas > 0);
  assert.is(oldRs.length, 1);
  let failures: string[] = [];
  const versions = new Set<string>();
  let running = true;
  const load = (async () => {
    while (running) {
      try {
        const r = await get(`${url}/api`);
        if (r.status !== 200) failures.push(`status ${r.status}`);
        else versions.add(JSON.parse(r.body).version);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  })();
  const server = path.join(repo.work, 'apps/web/server.js');
  repo.write('apps/web/server.js', readFileSync(server, 'utf8').replace("const VERSION = 'v1'", "const VERSION = 'v2'"));
  await applied(repo.commit('web v2'));
  await until(async () => (await deployment('web')).metadata.annotations?.['deployment.kubernetes.io/revision'] === '2', 'a new revision');
  await rolledOut('web', 2, 'web v2 rolled out');
  running = false;
  await load;
  assert.equal(failures, [], 'no failed request during the rolling update');
  assert.ok(versions.has('v2'), [...versions].join());
  // The old pods, marked for deletion, leave the Endpoints within the endpoint batch period (100 ms) of their
  // marking, as in Kubernetes some time after the rollout's status says done.
  await until(async () => JSON.parse((await get(`${url}/api`)).body).version === 'v2', 'v2 answering');

  // Roll back the git way.
  repo.git('revert', '--no-edit', 'HEAD');
  await applied(repo.git('rev-parse', 'HEAD'));
  await until(async () => (await deployment('web')).metadata.annotations?.['deployment.kubernetes.io/revision'] === '3', 'revision 3');
  await rolledOut('web', 2, 'web back to v1');
  const rs = (await list('/apis/apps/v1/namespaces/default/replicasets')).filter((r) => r.metadata.name.startsWith('web-'));
  const active = rs.filter((r) => r.spec.replicas > 0);
  assert.equal(active.map((r) => r.metadata.name), [oldRs[0].metadata.name], 'the old ReplicaSet is scaled up again');
  assert.is(active[0].metadata.uid, oldRs[0].metadata.uid, 'the very same object, reused');
  assert.is(rs.length, 2, 'no third ReplicaSet');
  await until(async () => JSON.parse((await get(`${url}/api`)).body).version === 'v1', 'the old code runs again');
});

test('a changed greeting (a ConfigMap the pods read) rolls out too', async () => {
  const url = await nodePortUrl('web');
  const before = (await deployment('web')).metadata.annotations['deployment.kubernetes.io/revision'];
  repo.write('greeting.yaml', readFileSync(path.join(repo.work, 'greeting.yaml'), 'utf8').replace('Hello from convergit', 'Hello again'));
  await applied(repo.commit('new greeting'));
  await until(async () => (await deployment('web')).metadata.annotations['deployment.kubernetes.io/revision'] === String(Number(before) + 1), 'a new revision');
  await rolledOut('web', 2, 'the new greeting rolled out');
  assert.is(JSON.parse((await get(`${url}/api`)).body).greeting, 'Hello again');
});

test('the backend keeps its counter on its PersistentVolumeClaim through a kill -9, a new pod and a git revert; the backup Job copies it', async () => {
  const svc = (await serve.get('/api/v1/namespaces/default/services/backend')).body;
  const incr = async () => JSON.parse((await get(`http://${svc.spec.clusterIP}:9000/kv/visits/incr`, 'POST')).body).value as number;
  const claim = (await serve.get('/api/v1/namespaces/default/persistentvolumeclaims/data-backend-0')).body;
  assert.is(claim.status.phase, 'Bound');
  const pv = (await serve.get(`/api/v1/persistentvolumes/${claim.spec.volumeName}`)).body;
  const onDisk = () => JSON.parse(readFileSync(path.join(pv.spec.hostPath.path, 'kv.json'), 'utf8')).visits;
  const start = await incr();
  assert.is(onDisk(), start, 'written to the claim\'s folder');
  // A crash: the container restarts in the same pod and reads its data back.
  const first = await backendReady('backend-0 Ready');
  const [pid] = pidsOf([first]);
  const restarts = first.status.containerStatuses[0].restartCount;
  process.kill(pid, 'SIGKILL');
  // One restart more than before the kill (an earlier one, if any, is not this test's business), and Ready again.
  await until(async () => { const p = await backendReady('backend-0 Ready'); return p.status.containerStatuses[0].restartCount === restarts + 1 && p; }, 'backend-0 restarted')
    .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify((await pods('app=backend')).map((p) => p.status))}\n${serve.output().slice(-3000)}`); });
  assert.is(await incr(), start + 1);
  // A new template: the StatefulSet replaces backend-0 with a new pod, on the same claim.
  const manifest = readFileSync(path.join(repo.work, 'backend.yaml'), 'utf8');
  repo.write('backend.yaml', manifest.replace('cpu: 50m', 'cpu: 60m'));
  await applied(repo.commit('backend: more cpu'));
  const second = await backendReady('a new backend-0', first.metadata.uid);
  assert.is(await incr(), start + 2);
  // A git revert replaces it again; the claim is still the first one.
  repo.git('revert', '--no-edit', 'HEAD');
  await applied(repo.git('rev-parse', 'HEAD'));
  await backendReady('backend-0 back at the first template', second.metadata.uid);
  assert.is(await incr(), start + 3);
  assert.is((await serve.get('/api/v1/namespaces/default/persistentvolumeclaims/data-backend-0')).body.metadata.uid, claim.metadata.uid);
  // The example's backup, run once now as a Job from the CronJob's template, saves the counter on its own claim.
  const [cron, backups] = loadAll(readFileSync(path.join(EXAMPLES, 'backup.yaml'), 'utf8')) as any[];
  const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'backup-now' }, spec: cron.spec.jobTemplate.spec };
  repo.write('backup-now.yaml', `${JSON.stringify(job)}\n---\n${JSON.stringify(backups)}\n`);
  await applied(repo.commit('back up now'));
  await until(async () => (await serve.get('/apis/batch/v1/namespaces/default/jobs/backup-now')).body.status?.succeeded === 1, 'the backup Job complete');
  const backupClaim = (await serve.get('/api/v1/namespaces/default/persistentvolumeclaims/backups')).body;
  const folder = (await serve.get(`/api/v1/persistentvolumes/${backupClaim.spec.volumeName}`)).body.spec.hostPath.path;
  const files = readdirSync(folder).filter((f) => /^kv-.*\.json$/.test(f));
  assert.is(files.length, 1, files.join());
  assert.equal(JSON.parse(readFileSync(path.join(folder, files[0]), 'utf8')), { visits: start + 3 });
  // Done with it: the Job and its pod go (the claim stays, as pruning it would delete data).
  repo.write('backup-now.yaml', `${JSON.stringify(backups)}\n`);
  await applied(repo.commit('backup done'));
  await until(async () => (await pods('app=backup')).length === 0, 'the backup pod gone');
});

test('a pod too big for any node waits with FailedScheduling, then runs after a smaller commit', async () => {
  const big = (memory: string) => `apiVersion: v1
kind: Pod
metadata:
  name: big
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: host
      command: ["node", "-e", "setInterval(() => {}, 60000)"]
      resources:
        requests:
          memory: ${memory}
`;
  repo.write('big.yaml', big('64Gi'));
  await applied(repo.commit('a big pod'));
  const pending = await until(async () => {
    const p = (await serve.get('/api/v1/namespaces/default/pods/big')).body;
    return p.status?.conditions?.find((c: any) => c.type === 'PodScheduled' && c.status === 'False') && p;
  }, 'PodScheduled=False');
  const cond = pending.status.conditions.find((c: any) => c.type === 'PodScheduled');
  assert.is(cond.reason, 'Unschedulable');
  assert.is(cond.message, '0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: 1 No preemption victims found for incoming pod..');
  const events = await list('/api/v1/namespaces/default/events');
  assert.ok(events.some((e) => e.reason === 'FailedScheduling' && e.involvedObject.name === 'big' && e.message === cond.message));
  // A bare Pod's spec cannot change in place: delete it from git, then commit the smaller one.
  repo.remove('big.yaml');
  await applied(repo.commit('drop the big pod'));
  await until(async () => (await serve.get('/api/v1/namespaces/default/pods/big')).status === 404, 'the big pod removed');
  repo.write('big.yaml', big('64Mi'));
  await applied(repo.commit('a smaller pod'));
  await until(async () => ready((await serve.get('/api/v1/namespaces/default/pods/big')).body), 'the smaller pod to run');
});

test('a crashing container restarts with backoff and shows CrashLoopBackOff', async () => {
  repo.write('crash.yaml', `apiVersion: apps/v1
kind: Deployment
metadata:
  name: crash
spec:
  replicas: 1
  selector:
    matchLabels: { app: crash }
  template:
    metadata:
      labels: { app: crash }
    spec:
      containers:
        - name: main
          image: host
          command: ["node", "-e", "console.log('starting'); process.exit(3)"]
`);
  await applied(repo.commit('a crashing app'));
  const p = await until(async () => {
    const [pod] = await pods('app=crash');
    const c = pod?.status?.containerStatuses?.[0];
    return c && c.restartCount >= 2 && c.state?.waiting?.reason === 'CrashLoopBackOff' && pod;
  }, 'CrashLoopBackOff after two restarts', 20_000);
  const c = p.status.containerStatuses[0];
  assert.is(c.lastState.terminated.exitCode, 3);
  assert.is(c.lastState.terminated.reason, 'Error');
  assert.is(c.ready, false);
  const { stdout } = await kubectl('logs', p.metadata.name, '--previous');
  assert.match(stdout, /starting/);
  repo.remove('crash.yaml');
  await applied(repo.commit('drop the crashing app'));
});

test('deleting from git stops the pods and leaves no process behind', async () => {
  const before = await pods('app=web');
  const pids = pidsOf(before);
  assert.is(pids.length, 2);
  repo.remove('web.yaml');
  await applied(repo.commit('remove web'));
  await until(async () => (await pods('app=web')).length === 0 && (await list('/apis/apps/v1/namespaces/default/replicasets')).every((r) => !r.metadata.name.startsWith('web-')), 'web pods and ReplicaSets gone');
  await until(() => pids.every((pid) => !alive(pid)), 'web processes to exit');
});

test('restarting serve keeps every process: the next serve re-adopts the same pods, without duplicates or restarts', async () => {
  const before = (await list('/api/v1/namespaces/default/pods')).filter((p) => !p.metadata.deletionTimestamp);
  const pids = pidsOf(before);
  assert.ok(pids.length >= 2, `${pids.length} processes: ${JSON.stringify(before.map((p) => [p.metadata.name, p.status?.phase, p.status?.containerStatuses?.[0]?.state]))}\n${serve.output()}`);
  assert.is(await serve.stop(), 0);
  assert.ok(pids.every(alive), 'the containers run on without serve');
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, ...ARGS]);
  let last: any[] = [];
  const after = await until(async () => {
    const ps = last = await list('/api/v1/namespaces/default/pods');
    return ps.length === before.length && ps.every(ready) && ps;
  }, 'the pods ready again', 15_000).catch((e) => { throw new Error(`${e.message}: ${JSON.stringify(last.map((p) => [p.metadata.name, p.status]))}`); });
  assert.equal(after.map((p) => p.metadata.name).sort(), before.map((p) => p.metadata.name).sort(), 'the same pods, none added');
  assert.equal(pidsOf(after).sort(), pids.sort(), 'the same processes');
  const counts = (ps: any[]) => Object.fromEntries(ps.map((p) => [p.metadata.name, p.status.containerStatuses[0].restartCount]));
  assert.equal(counts(after), counts(before), 'nothing restarted');
  // The bare restartPolicy Never pod runs on too, as a pod does across a kubelet restart in Kubernetes.
  assert.ok(after.find((p) => p.metadata.name === 'big').status.containerStatuses[0].state.running);
});

test.run();
