// End to end on two local nodes (`--nodes 2`): pods spread across nodes, a pod that fits nowhere waits with
// the Kubernetes-style reason, and is scheduled as soon as a commit frees room.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const sleeper = (name: string, replicas: number, memory: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: host
          command: ["node", "-e", "setInterval(() => {}, 60000)"]
          resources:
            requests:
              memory: ${memory}
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess;
const pods = async (app: string) => (await serve.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body.items as any[];
const running = (p: any) => p.status?.phase === 'Running' && !p.metadata.deletionTimestamp;
const applied = (sha: string) => until(async () => (await serve.get('/status')).body.lastAppliedRevision === sha, `revision ${sha.slice(0, 7)} applied`);

test.before(async () => {
  repo = makeRepo({ 'small.yaml': sleeper('small', 4, '100Mi') });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-scheduling-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--nodes', '2', '--node-name', 'box', '--node-memory', '256Mi', '--node-cpu', '1']);
});

test.after(async () => {
  await serve?.shutdown();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('two nodes register, and a workload\'s pods spread over them', async () => {
  const nodes = (await serve.get('/api/v1/nodes')).body.items;
  assert.equal(nodes.map((n: any) => n.metadata.name), ['box-1', 'box-2']);
  // The cluster's block is reserved machine-wide (another serve may hold the default): each node a /24 of it.
  const block = /addresses: pods from (\d+\.\d+)\.0\.0\/16/.exec(serve.output())?.[1];
  assert.ok(block, serve.output());
  assert.equal(nodes.map((n: any) => n.spec.podCIDR), [`${block}.0.0/24`, `${block}.1.0/24`]);
  assert.ok(nodes.every((n: any) => n.status.allocatable.memory === '262144Ki'), JSON.stringify(nodes[0].status.allocatable));
  const ps = await until(async () => { const ps = await pods('small'); return ps.length === 4 && ps.every(running) && ps; }, '4 small pods running');
  const perNode = ps.reduce((m: Record<string, number>, p: any) => ({ ...m, [p.spec.nodeName]: (m[p.spec.nodeName] ?? 0) + 1 }), {});
  assert.equal(perNode, { 'box-1': 2, 'box-2': 2 });
  assert.ok(ps.every((p: any) => p.status.podIP.startsWith(p.spec.nodeName === 'box-1' ? `${block}.0.` : `${block}.1.`)), 'addresses from each node\'s podCIDR');
});

test('a pod that fits nowhere gets FailedScheduling, and runs once a commit frees room', async () => {
  repo.write('big.yaml', sleeper('big', 1, '200Mi'));
  await applied(repo.commit('a big one'));
  const [pending] = await until(async () => {
    const ps = await pods('big');
    return ps[0]?.status?.conditions?.some((c: any) => c.type === 'PodScheduled' && c.status === 'False') && ps;
  }, 'the big pod to be unschedulable');
  const cond = pending.status.conditions.find((c: any) => c.type === 'PodScheduled');
  assert.is(cond.message, '0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod..');
  assert.is(pending.status.phase, 'Pending');
  const events = (await serve.get('/api/v1/namespaces/default/events')).body.items;
  assert.ok(events.some((e: any) => e.type === 'Warning' && e.reason === 'FailedScheduling' && e.involvedObject.name === pending.metadata.name), 'a FailedScheduling event');

  // Ranking by crowding removes one pod from each node, which frees no node enough: only a smaller workload does.
  repo.write('small.yaml', sleeper('small', 1, '100Mi'));
  await applied(repo.commit('fewer small ones'));
  const [big] = await until(async () => { const ps = await pods('big'); return ps.length === 1 && running(ps[0]) && ps; }, 'the big pod to run');
  assert.is(big.metadata.name, pending.metadata.name, 'the same pod, scheduled once room was freed');
  const smalls = (await pods('small')).filter(running);
  assert.is(smalls.length, 1);
  assert.ok(smalls.every((p: any) => p.spec.nodeName !== big.spec.nodeName), 'no node holds more than its 256Mi');
});

test.run();
