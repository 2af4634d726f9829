// End to end on three local nodes (`--nodes 3`, process runtime): a DaemonSet runs one pod per eligible node
// (a tainted node only once the template tolerates it, rolled out node by node with ControllerRevisions).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

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
const TOLERATE = '      tolerations: [{ key: dedicated, operator: Equal, value: infra, effect: NoSchedule }]\n';

let repo: TestRepo, dataDir: string, serve: ServeProcess;
const pods = async (app: string) => ((await serve.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body.items as any[])
  .filter((p) => !p.metadata.deletionTimestamp);
const running = (p: any) => p.status?.phase === 'Running' && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
const applied = (sha: string) => until(async () => (await serve.get('/status')).body.lastAppliedRevision === sha, `revision ${sha.slice(0, 7)} applied`, 20_000);
const ds = async () => (await serve.get('/apis/apps/v1/namespaces/default/daemonsets/agent')).body;

test.before(async () => {
  repo = makeRepo({ 'agent.yaml': daemonSet() });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-nodes-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--nodes', '3', '--node-name', 'box',
    '--taint-node', 'box-3:dedicated=infra:NoSchedule', '--label-node', 'box-1:topology.kubernetes.io/zone=a']);
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

test.run();
