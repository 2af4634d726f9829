// End to end on three local nodes (`--nodes 3`, process runtime): a DaemonSet runs one pod per eligible node
// (a tainted node only once the template tolerates it, rolled out node by node with ControllerRevisions); then
// serve restarts with `--nodes 2`, so the third node's heartbeats stop for real: it becomes Unknown, is tainted
// unreachable, and a Deployment's pod on it is evicted and replaced on the live nodes while the daemon pod stays;
// last, `convergit drain` of a live node waits on a PodDisruptionBudget until a commit relaxes it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
const pdb = (minAvailable: number) => `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: web
spec:
  minAvailable: ${minAvailable}
  selector:
    matchLabels: { app: web }
`;

const daemonSet = (tolerations = '') => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: { app: agent }
  template:
    metadata:
      labels: { app: agent }
    spec:
      terminationGracePeriodSeconds: 1
${tolerations}      containers:
        - name: main
          image: host
          command: ["node", "-e", "setInterval(() => {}, 60000)"]
          readinessProbe: { exec: { command: ["true"] }, periodSeconds: 1 }
`;
const web = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 3
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
      terminationGracePeriodSeconds: 1
      tolerations: [{ key: dedicated, operator: Exists, effect: NoSchedule }]
      affinity:
        podAntiAffinity:
          preferredDuringSchedulingIgnoredDuringExecution:
            - weight: 100
              podAffinityTerm: { labelSelector: { matchLabels: { app: web } }, topologyKey: kubernetes.io/hostname }
      containers:
        - name: main
          image: host
          command: ["node", "-e", "setInterval(() => {}, 60000)"]
`;
const TOLERATE = '      tolerations: [{ key: dedicated, operator: Equal, value: infra, effect: NoSchedule }]\n';

let repo: TestRepo, dataDir: string, serve: ServeProcess;
const pods = async (app: string) => ((await serve.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body.items as any[])
  .filter((p) => !p.metadata.deletionTimestamp);
const running = (p: any) => p.status?.phase === 'Running' && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
const applied = (sha: string) => until(async () => (await serve.get('/status')).body.lastAppliedRevision === sha, `revision ${sha.slice(0, 7)} applied`, 20_000);
const ds = async () => (await serve.get('/apis/apps/v1/namespaces/default/daemonsets/agent')).body;

test.before(async () => {
  repo = makeRepo({ 'agent.yaml': daemonSet(), 'web.yaml': web });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-nodes-'));
  // The pods get their unreachable toleration (2 s) when created, as from the API server's admission.
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--nodes', '3', '--node-name', 'box',
    '--taint-node', 'box-3:dedicated=infra:NoSchedule', '--label-node', 'box-1:topology.kubernetes.io/zone=a', '--default-unreachable-toleration-seconds', '2']);
});

test.after(async () => {
  await serve?.shutdown();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('a DaemonSet runs one pod on each node it tolerates, bound by the scheduler through its node affinity', async () => {
  const nodes = (await serve.get('/api/v1/nodes')).body.items;
  assert.equal(nodes.find((n: any) => n.metadata.name === 'box-3').spec.taints, [{ key: 'dedicated', value: 'infra', effect: 'NoSchedule' }]);
  assert.is(nodes.find((n: any) => n.metadata.name === 'box-1').metadata.labels['topology.kubernetes.io/zone'], 'a');
  const ps = await until(async () => { const ps = await pods('agent'); return ps.length === 2 && ps.every(running) && ps; }, 'two agent pods ready', 20_000);
  assert.equal(ps.map((p) => p.spec.nodeName).sort(), ['box-1', 'box-2']);
  for (const p of ps) {
    assert.equal(p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
      [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [p.spec.nodeName] }] }]);
    assert.ok(p.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute'));
  }
  const s = await until(async () => { const d = await ds(); return d.status?.numberAvailable === 2 && d.status; }, 'status counts');
  assert.equal({ ...s, observedGeneration: undefined }, {
    desiredNumberScheduled: 2, currentNumberScheduled: 2, numberMisscheduled: 0, numberReady: 2, numberAvailable: 2, numberUnavailable: 0, updatedNumberScheduled: 2, observedGeneration: undefined,
  });
  const health = await until(async () => { const st = (await serve.get('/status')).body; return st.health?.status === 'Healthy' && st; }, 'healthy');
  assert.ok(health);
});

test('tolerating the taint: a rolling update over all three nodes, one node at a time, with two ControllerRevisions', async () => {
  const before = await pods('agent');
  repo.write('agent.yaml', daemonSet(TOLERATE));
  await applied(repo.commit('agent tolerates the infra node'));
  const hash = (p: any) => p.metadata.labels['controller-revision-hash'];
  const ps = await until(async () => {
    const ps = await pods('agent');
    const d = await ds();
    return ps.length === 3 && ps.every(running) && new Set(ps.map(hash)).size === 1 && d.status.updatedNumberScheduled === 3 && d.status.numberAvailable === 3 && ps;
  }, 'three updated agent pods', 40_000);
  assert.equal(ps.map((p) => p.spec.nodeName).sort(), ['box-1', 'box-2', 'box-3']);
  assert.ok(ps.every((p) => !before.some((b) => b.metadata.name === p.metadata.name)), 'every pod replaced');
  const revs = (await serve.get('/apis/apps/v1/namespaces/default/controllerrevisions')).body.items;
  assert.equal(revs.map((r: any) => r.revision).sort(), [1, 2]);
  assert.is(revs.find((r: any) => r.revision === 2).metadata.name, `agent-${hash(ps[0])}`);
  const events = (await serve.get('/api/v1/namespaces/default/events')).body.items.filter((e: any) => e.involvedObject.kind === 'DaemonSet');
  assert.ok(events.some((e: any) => e.reason === 'SuccessfulDelete'), 'old pods deleted by the controller');
});

test('a node left behind by a serve with fewer nodes goes Unknown, is tainted, and its pods move', async () => {
  const webPods = await until(async () => { const ps = await pods('web'); return ps.length === 3 && ps.every((p) => p.status?.phase === 'Running') && ps; }, 'three web pods', 20_000);
  assert.equal(webPods.map((p) => p.spec.nodeName).sort(), ['box-1', 'box-2', 'box-3'], 'preferred anti-affinity: one per node');
  const onBox3 = webPods.find((p) => p.spec.nodeName === 'box-3');
  const daemonOnBox3 = (await pods('agent')).find((p) => p.spec.nodeName === 'box-3');
  assert.is(await serve.stop(), 0);
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--nodes', '2', '--node-name', 'box',
    '--node-monitor-grace-period', '2s', '--default-unreachable-toleration-seconds', '2']);
  const box3 = await until(async () => {
    const n = (await serve.get('/api/v1/nodes/box-3')).body;
    return n.status.conditions.find((c: any) => c.type === 'Ready')?.status === 'Unknown' && n.spec.taints?.some((t: any) => t.effect === 'NoExecute') && n;
  }, 'box-3 Unknown and tainted', 20_000);
  assert.is(box3.status.conditions.find((c: any) => c.type === 'Ready').message, 'Kubelet stopped posting node status.');
  assert.equal(box3.spec.taints.filter((t: any) => t.key.startsWith('node.kubernetes.io/')).map((t: any) => `${t.key}:${t.effect}`),
    ['node.kubernetes.io/unreachable:NoSchedule', 'node.kubernetes.io/unreachable:NoExecute']);
  // The web pod there is evicted after the toleration written into it (2 s); a replacement runs on a live node.
  assert.ok(onBox3.spec.tolerations.some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.tolerationSeconds === 2));
  const evicted = await until(async () => {
    const p = (await serve.get(`/api/v1/namespaces/default/pods/${onBox3.metadata.name}`)).body;
    return p.metadata?.deletionTimestamp && p;
  }, 'the web pod on box-3 marked for deletion', 20_000);
  assert.ok(evicted.status.conditions.some((c: any) => c.type === 'DisruptionTarget' && c.reason === 'DeletionByTaintManager'));
  const moved = await until(async () => {
    const ps = (await pods('web')).filter((p) => p.status?.phase === 'Running');
    return ps.length === 3 && ps.every((p) => p.spec.nodeName !== 'box-3') && ps;
  }, 'three web pods on the live nodes', 20_000);
  assert.ok(moved.some((p) => !webPods.some((w) => w.metadata.name === p.metadata.name)), 'a new pod replaced the evicted one');
  // The daemon pod tolerates unreachable forever: it stays, marked not Ready.
  const daemon = (await serve.get(`/api/v1/namespaces/default/pods/${daemonOnBox3.metadata.name}`)).body;
  assert.is(daemon.metadata.deletionTimestamp, undefined);
  assert.ok(daemon.status.conditions.some((c: any) => c.type === 'Ready' && c.status === 'False'));
});

test('drain waits on a PodDisruptionBudget, then evicts once a commit allows it; DaemonSet pods stay; uncordon', async () => {
  repo.write('pdb.yaml', pdb(3));
  await applied(repo.commit('a budget of three web pods'));
  const budget = await until(async () => {
    const b = (await serve.get('/apis/policy/v1/namespaces/default/poddisruptionbudgets/web')).body;
    return b.status?.currentHealthy === 3 && b.status;
  }, 'the budget computed');
  assert.equal({ desired: budget.desiredHealthy, allowed: budget.disruptionsAllowed, cond: budget.conditions[0].reason }, { desired: 3, allowed: 0, cond: 'InsufficientPods' });

  const onBox2 = (await pods('web')).filter((p) => p.spec.nodeName === 'box-2');
  assert.ok(onBox2.length >= 1, 'a web pod on box-2');
  const child = spawn(process.execPath, [BIN, 'drain', 'box-2', '--data-dir', dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((res) => child.on('exit', res));
  await until(() => out.includes("(will retry after 5s): Cannot evict pod as it would violate the pod's disruption budget."), 'a refused eviction', 20_000);
  assert.ok((await serve.get('/api/v1/nodes/box-2')).body.spec.unschedulable, 'cordoned');
  assert.ok((await pods('web')).filter((p) => p.spec.nodeName === 'box-2').length === onBox2.length, 'nothing evicted yet');

  repo.write('pdb.yaml', pdb(2));
  await applied(repo.commit('a budget of two'));
  assert.is(await exited, 0, out);
  const lines = out.trim().split('\n');
  assert.is(lines[0], 'node/box-2 cordoned');
  assert.match(lines[1], /^Warning: ignoring DaemonSet-managed Pods: default\/agent-/);
  for (const p of onBox2) assert.ok(lines.includes(`pod/${p.metadata.name} evicted`), out);
  assert.is(lines.at(-1), 'node/box-2 drained');
  const after = await pods('web');
  assert.ok(after.every((p) => p.spec.nodeName !== 'box-2'), 'no web pod left on box-2');
  assert.ok((await pods('agent')).some((p) => p.spec.nodeName === 'box-2'), 'the daemon pod stays');

  const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'uncordon', 'box-2', '--data-dir', dataDir]);
  assert.is(stdout.trim(), 'node/box-2 uncordoned');
  assert.is((await serve.get('/api/v1/nodes/box-2')).body.spec.unschedulable, undefined);
});

test('drain without a running serve, or of an unknown node, fails clearly', async () => {
  const run = (args: string[], dir: string) => promisify(execFile)(process.execPath, [BIN, ...args, '--data-dir', dir]).then(() => 0, (e) => ({ code: e.code, err: e.stderr }));
  assert.equal(await run(['drain', 'nope'], dataDir), { code: 1, err: 'error: nodes "nope" not found\n' });
  const empty = mkdtempSync(path.join(tmpdir(), 'convergit-nodes-none-'));
  const r = await run(['drain', 'box-1'], empty) as { code: number; err: string };
  assert.is(r.code, 1);
  assert.match(r.err, /no serve is running on .*; drain works through a running serve/);
  // A per-node flag naming no node of the serve is refused at start, not ignored.
  const bad = await startServe(['--repo', repo.dir, '--data-dir', empty, '--nodes', '2', '--node-name', 'box', '--taint-node', 'box-3:x=y:NoSchedule']).then(() => '', (e) => String(e));
  rmSync(empty, { recursive: true, force: true });
  assert.match(bad, /--label-node\/--taint-node name box-3, not a node of this serve \(box-1, box-2\)/);
});

test.run();
