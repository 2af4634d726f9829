// End to end on hollow nodes (`serve --hollow --nodes 20`): 200 pods from one commit are scheduled within the
// nodes' pod capacity, go Running and Ready without a process, a container told to fail fails, and deleting the
// workloads removes every pod. The 30,000-pod run is in the bench (test/bench/hollow.ts), not here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const deployment = (name: string, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name}, tier: hollow }
    spec:
      containers:
        - name: main
          image: registry.example/app:1
          command: ["app"]
          readinessProbe:
            exec: { command: ["check"] }
            periodSeconds: 1
`;
const failing = `apiVersion: v1
kind: Pod
metadata:
  name: crasher
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: registry.example/app:1
      command: ["app"]
      env:
        - { name: CONVERGIT_HOLLOW_EXIT_CODE, value: "7" }
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess;
const pods = async () => (await serve.get('/api/v1/namespaces/default/pods?labelSelector=tier%3Dhollow')).body.items as any[];
const ready = (p: any) => p.status?.phase === 'Running' && p.status.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

test.before(async () => {
  const files: Record<string, string> = { 'crasher.yaml': failing };
  for (let i = 0; i < 10; i++) files[`apps/app-${i}.yaml`] = deployment(`app-${i}`, 20);
  repo = makeRepo(files);
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-hollow-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--hollow', '--nodes', '20', '--node-name', 'hollow', '--node-pods', '11']);
});

test.after(async () => {
  await serve?.shutdown(); // stopping serve leaves pods running: `convergit stop` stops them too
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('200 hollow pods go Running and Ready over 20 nodes, within each node\'s pod capacity', async () => {
  assert.is((await serve.get('/api/v1/nodes')).body.items.length, 20);
  const ps = await until(async () => { const ps = await pods(); return ps.length === 200 && ps.every(ready) && ps; }, '200 pods Ready', 60_000);
  const perNode = new Map<string, number>();
  for (const p of ps) perNode.set(p.spec.nodeName, (perNode.get(p.spec.nodeName) ?? 0) + 1);
  assert.is(perNode.size, 20, 'every node used');
  assert.ok([...perNode.values()].every((n) => n <= 11), JSON.stringify(Object.fromEntries(perNode)));
  assert.ok(ps.every((p: any) => p.status.containerStatuses[0].state.running), 'containers running');
  assert.is(new Set(ps.map((p: any) => p.status.podIP)).size, 200, 'each pod its own address');
  // Each node its own address, as on the process runtime: its podCIDR's first, its pods' hostIP, never a pod's.
  const nodes = (await serve.get('/api/v1/nodes')).body.items as any[];
  const address = new Map(nodes.map((n) => [n.metadata.name, n.status.addresses.find((a: any) => a.type === 'InternalIP').address]));
  assert.is(new Set(address.values()).size, 20, 'each node its own InternalIP');
  for (const n of nodes) assert.is(address.get(n.metadata.name), n.spec.podCIDR.replace(/\.0\/24$/, '.1'), `${n.metadata.name}: ${n.spec.podCIDR}`);
  assert.ok(ps.every((p: any) => p.status.hostIP === address.get(p.spec.nodeName)), 'pods\' hostIP is their node\'s address');
  assert.ok(ps.every((p: any) => !new Set(address.values()).has(p.status.podIP)), 'no pod has a node\'s address');
});

test('a hollow container told to exit 7 fails its pod', async () => {
  const p = await until(async () => { const p = (await serve.get('/api/v1/namespaces/default/pods/crasher')).body; return p?.status?.phase === 'Failed' && p; }, 'crasher Failed');
  assert.is(p.status.containerStatuses[0].state.terminated.exitCode, 7);
  assert.is(p.status.containerStatuses[0].state.terminated.reason, 'Error');
});

test('removing the workloads from git removes every hollow pod', async () => {
  for (let i = 0; i < 10; i++) repo.remove(`apps/app-${i}.yaml`);
  repo.commit('remove the apps');
  await until(async () => (await pods()).length === 0, 'every pod removed', 60_000);
});

test.run();
