// DaemonSets end to end on three local nodes (`--nodes 3`, process runtime), one serve for the file: one Running pod
// per eligible node (a nodeSelector and a taint each keep one node out), status as Kubernetes counts it, a
// RollingUpdate replacing the pods node by node within maxUnavailable (seen on a watch of every pod change), and
// `convergit drain`, which evicts a Deployment's pods and leaves the daemon pods, as kubectl drain
// --ignore-daemonsets does. A node added by a restart with `--nodes 4` gets its pod. (The long scenarios, node
// death and PodDisruptionBudgets, are in nodes.long.ts: `npm run torture`.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;

const container = (env = 'one') => `      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: host
          command: ["sleep", "100000"]
          env: [{ name: VERSION, value: "${env}" }]
          readinessProbe: { exec: { command: ["true"] }, periodSeconds: 1 }
`;
// `agent` tolerates nothing, so the tainted ds-3 is not for it; `edge` selects the nodes labelled edge=true (ds-1,
// ds-3) and tolerates ds-3's taint.
const agent = (version?: string) => `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: { app: agent }
  updateStrategy:
    type: RollingUpdate
    rollingUpdate: { maxUnavailable: 1 }
  template:
    metadata:
      labels: { app: agent }
    spec:
${container(version)}`;
const edge = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: edge
spec:
  selector:
    matchLabels: { app: edge }
  template:
    metadata:
      labels: { app: edge }
    spec:
      nodeSelector: { edge: "true" }
      tolerations: [{ key: dedicated, operator: Equal, value: infra, effect: NoSchedule }]
${container()}`;
const web = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: { app: web }
  template:
    metadata:
      labels: { app: web }
    spec:
${container()}`;

const NODE_FLAGS = ['--node-name', 'ds', '--taint-node', 'ds-3:dedicated=infra:NoSchedule', '--label-node', 'ds-1:edge=true', '--label-node', 'ds-3:edge=true'];
let repo: TestRepo, dataDir: string, serve: ServeProcess;
// A serve's start can take long on a machine shared with other test files: wait for it, do not fail on it.
const start = (nodes: number) => startServe(['--repo', repo.dir, '--data-dir', dataDir, '--nodes', String(nodes), ...NODE_FLAGS], { listenTimeoutMs: 60_000 });
/** The status counts; Kubernetes omits numberUnavailable (omitempty) when it is 0, convergit writes 0: either is 0 here. */
const counts = (ds: any) => ({ ...ds.status, numberUnavailable: ds.status?.numberUnavailable ?? 0 });

const live = (ps: any[]) => ps.filter((p) => !p.metadata.deletionTimestamp);
const pods = async (app: string) => live((await serve.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body.items);
const ready = (p: any) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running'
  && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
const nodesOf = (ps: any[]) => ps.map((p) => p.spec.nodeName).sort();
const daemonSet = async (name: string) => (await serve.get(`/apis/apps/v1/namespaces/default/daemonsets/${name}`)).body;
const applied = (sha: string) => until(async () => (await serve.get('/status')).body.lastAppliedRevision === sha, `revision ${sha.slice(0, 7)} applied`, 20_000);
/** Each listed node runs exactly one pod of `app`, all ready (and the DaemonSet's status has caught up). */
const settled = (app: string, nodes: string[]) => until(async () => {
  const ps = await pods(app);
  const ds = await daemonSet(app);
  return ps.every(ready) && nodesOf(ps).join() === nodes.join() && ds.status?.numberAvailable === nodes.length && ps;
}, `${app} ready on ${nodes.join(', ')}`, 20_000);

test.before(async () => {
  repo = makeRepo({ 'agent.yaml': agent(), 'edge.yaml': edge, 'web.yaml': web });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-daemonset-'));
  serve = await start(3);
});

test.after(async () => {
  await serve?.shutdown();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('one ready pod per eligible node: a taint and a nodeSelector each keep a node out; status as Kubernetes counts it', async () => {
  const agents = await settled('agent', ['ds-1', 'ds-2']);
  await settled('edge', ['ds-1', 'ds-3']);
  for (const p of agents) {
    assert.equal(p.metadata.ownerReferences.map((o: any) => `${o.kind}/${o.name}/${o.controller}`), ['DaemonSet/agent/true']);
    assert.equal(p.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms,
      [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [p.spec.nodeName] }] }]);
  }
  for (const name of ['agent', 'edge']) {
    const ds = await daemonSet(name);
    assert.equal(counts(ds), {
      currentNumberScheduled: 2, desiredNumberScheduled: 2, numberAvailable: 2, numberMisscheduled: 0, numberReady: 2,
      numberUnavailable: 0, observedGeneration: ds.metadata.generation, updatedNumberScheduled: 2,
    }, name);
  }
});

test('a node added (a restart with --nodes 4) gets its pod; the pods on the others coast through', async () => {
  const before = await pods('agent');
  assert.is(await serve.stop(), 0);
  serve = await start(4);
  const after = await settled('agent', ['ds-1', 'ds-2', 'ds-4']);
  for (const p of before) assert.ok(after.some((a) => a.metadata.name === p.metadata.name), `${p.metadata.name} kept`);
  await settled('edge', ['ds-1', 'ds-3']); // ds-4 has no edge=true label
  const ds = await daemonSet('agent');
  assert.equal([ds.status.desiredNumberScheduled, ds.status.currentNumberScheduled, ds.status.updatedNumberScheduled], [3, 3, 3]);
});

test('a RollingUpdate replaces the pods node by node, never more than maxUnavailable (1) nodes without an available pod', async () => {
  const eligible = ['ds-1', 'ds-2', 'ds-4'];
  const old = await settled('agent', eligible);
  // List, then watch every change from that version on (client-go's list and watch), keeping the pods by name.
  const list = (await serve.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dagent')).body;
  const byName = new Map<string, any>(list.items.map((p: any) => [p.metadata.name, p]));
  const down = () => eligible.filter((n) => ![...byName.values()].some((p) => p.spec.nodeName === n && ready(p))).length;
  let worst = down(), events = 0;
  const abort = new AbortController();
  const res = await fetch(`${serve.url}/api/v1/namespaces/default/pods?labelSelector=app%3Dagent&watch=1&resourceVersion=${list.metadata.resourceVersion}`, { signal: abort.signal });
  const watching = (async () => {
    let buf = '';
    const decoder = new TextDecoder();
    for await (const chunk of res.body as any) {
      buf += decoder.decode(chunk, { stream: true });
      let nl;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const e = JSON.parse(buf.slice(0, nl));
        buf = buf.slice(nl + 1);
        if (e.type === 'DELETED') byName.delete(e.object.metadata.name);
        else if (e.type === 'ADDED' || e.type === 'MODIFIED') byName.set(e.object.metadata.name, e.object);
        events++;
        worst = Math.max(worst, down());
      }
    }
  })().catch((e) => { if (e.name !== 'AbortError') throw e; });

  repo.write('agent.yaml', agent('two'));
  await applied(repo.commit('agent: version two'));
  const fresh = await until(async () => {
    const ps = await settled('agent', eligible);
    return ps.every((p) => p.spec.containers[0].env[0].value === 'two') && (await daemonSet('agent')).status.updatedNumberScheduled === 3 && ps;
  }, 'every agent pod of version two', 30_000);
  abort.abort();
  await watching;
  assert.ok(events > 0, 'the watch saw the rollout');
  assert.is(worst, 1, 'one node at a time');
  assert.ok(fresh.every((p) => !old.some((o) => o.metadata.name === p.metadata.name)), 'every pod replaced');
  assert.is(new Set(fresh.map((p) => p.metadata.labels['controller-revision-hash'])).size, 1);
  const ds = await daemonSet('agent');
  assert.equal(counts(ds), {
    currentNumberScheduled: 3, desiredNumberScheduled: 3, numberAvailable: 3, numberMisscheduled: 0, numberReady: 3,
    numberUnavailable: 0, observedGeneration: ds.metadata.generation, updatedNumberScheduled: 3,
  });
  assert.is(ds.metadata.generation, 2);
});

test('drain evicts the Deployment pods of a node and leaves its DaemonSet pods (--ignore-daemonsets); uncordon', async () => {
  const twoWeb = () => until(async () => { const ps = await pods('web'); return ps.length === 2 && ps.every(ready) && ps; }, 'two ready web pods', 20_000);
  const webPods = await twoWeb();
  const node = webPods[0].spec.nodeName;
  const daemons = [...await pods('agent'), ...await pods('edge')].filter((p) => p.spec.nodeName === node);
  assert.ok(daemons.length >= 1, `a daemon pod on ${node}`);
  const { stdout } = await promisify(execFile)(process.execPath, [BIN, 'drain', node, '--data-dir', dataDir]);
  const lines = stdout.trim().split('\n');
  assert.is(lines[0], `node/${node} cordoned`);
  // Every daemon pod there is named, and only daemon pods (kubectl names a terminating one too, such as an old
  // agent pod the rollout is still stopping: so a superset of the live ones).
  const ignored = /^Warning: ignoring DaemonSet-managed Pods: (.*)$/.exec(lines[1])?.[1].split(', ') ?? [];
  for (const p of daemons) assert.ok(ignored.includes(`default/${p.metadata.name}`), stdout);
  assert.ok(ignored.every((n) => /^default\/(agent|edge)-[a-z0-9]{5}$/.test(n)), stdout);
  for (const p of webPods.filter((p) => p.spec.nodeName === node)) assert.ok(lines.includes(`pod/${p.metadata.name} evicted`), stdout);
  assert.is(lines.at(-1), `node/${node} drained`);

  // The Deployment's pods come back on the other nodes; the daemon pods stay as they were, and still count.
  const moved = await twoWeb();
  assert.ok(moved.every((p) => p.spec.nodeName !== node), `no web pod on ${node}`);
  const still = [...await pods('agent'), ...await pods('edge')].filter((p) => p.spec.nodeName === node);
  assert.equal(still.map((p) => p.metadata.uid).sort(), daemons.map((p) => p.metadata.uid).sort());
  assert.ok(still.every(ready));
  assert.ok((await serve.get(`/api/v1/nodes/${node}`)).body.spec.unschedulable, 'cordoned');
  assert.is((await daemonSet('agent')).status.desiredNumberScheduled, 3, 'a cordoned node still runs its daemon pods');

  const un = await promisify(execFile)(process.execPath, [BIN, 'uncordon', node, '--data-dir', dataDir]);
  assert.is(un.stdout.trim(), `node/${node} uncordoned`);
  assert.is((await serve.get(`/api/v1/nodes/${node}`)).body.spec.unschedulable, undefined);
});

test.run();
