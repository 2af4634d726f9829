// End to end: `kubectl top pods` and `kubectl top nodes` against a real `serve` whose node measures its containers
// (/proc: cpu time as a rate over the window, resident memory), served as metrics-server serves metrics.k8s.io.
import { formatQuantity, isQuantity, parseQuantity } from '../../src/model/quantity.ts';
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

// `spin` keeps about half a core busy and 64 MiB resident; `rest` sleeps. `waiting` needs a node it cannot have.
const pods = `apiVersion: v1
kind: Pod
metadata: {name: busy, labels: {app: busy}}
spec:
  containers:
    - name: spin
      image: host
      command: ["node", "-e", "const b = Buffer.alloc(64 << 20, 1); setInterval(() => { const t = Date.now(); while (Date.now() - t < 50); }, 100)"]
    - name: rest
      image: host
      command: ["node", "-e", "setInterval(() => {}, 60000)"]
---
apiVersion: v1
kind: Pod
metadata: {name: waiting}
spec:
  nodeSelector: {disk: none}
  containers: [{name: c, image: host, command: ["node", "-e", "0"]}]
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess;
const kubectl = async (...args: string[]) => (await promisify(execFile)('kubectl', ['--server', serve.url, ...args], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null', HOME: dataDir } })).stdout;
const cells = (out: string) => out.trim().split('\n').map((l) => l.trim().split(/\s+/));
const milli = (q: string) => Number(q.replace(/m$/, ''));
const mebi = (q: string) => Number(q.replace(/Mi$/, ''));

test.before(async () => {
  repo = makeRepo({ 'deploy/pods.yaml': pods });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-top-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--path', 'deploy', '--node-name', 'tn', '--node-cpu', '2', '--node-memory', '4Gi', '--metric-resolution', '500ms']);
  await until(async () => (await serve.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy')).body?.containers?.length === 2, 'the busy pod measured', 30_000);
});

test.after(async () => {
  await serve?.shutdown(); // stopping serve leaves pods running: `convergit stop` stops them too
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('discovery names the metrics.k8s.io group with nodes and pods', async () => {
  const r = (await serve.get('/apis/metrics.k8s.io/v1beta1')).body;
  assert.equal(r.resources.map((x: any) => `${x.name}:${x.kind}:${x.namespaced}`).sort(), ['nodes:NodeMetrics:false', 'pods:PodMetrics:true']);
  assert.is(r.resources.find((x: any) => x.name === 'pods').categories, undefined, 'not in the `all` category');
  const all = await kubectl('get', 'all', '-o', 'name');
  assert.ok(all.includes('pod/busy') && !all.includes('podmetrics'), all);
});

test('PodMetrics: per container cpu and memory, with timestamp and window', async () => {
  const m = (await serve.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/busy')).body;
  assert.is(m.kind, 'PodMetrics');
  assert.equal(m.metadata.labels, { app: 'busy' });
  assert.equal(m.containers.map((c: any) => c.name), ['spin', 'rest']);
  assert.match(m.window, /^\d+(\.\d+)?s$/);
  assert.ok(Date.parse(m.timestamp) <= Date.now());
  const [spin, rest] = m.containers.map((c: any) => c.usage);
  // Canonical quantities, as metrics-server's resource.Quantity serialises them (`3452745n`, `5m`; `14212Ki`, `2Mi`).
  assert.ok(isQuantity(spin.cpu) && formatQuantity(parseQuantity(spin.cpu)) === spin.cpu, spin.cpu);
  assert.ok(isQuantity(spin.memory) && formatQuantity(parseQuantity(spin.memory), 'binarySI') === spin.memory, spin.memory);
  assert.ok(parseQuantity(spin.memory) >= 64 * 1024 * 1024, `spin holds 64 MiB: ${spin.memory}`);
  assert.ok(parseQuantity(spin.memory) > parseQuantity(rest.memory));
  const pending = await serve.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/waiting');
  assert.is(pending.status, 404, 'a pod that does not run has no metrics');
  assert.is(pending.body.message, 'podmetrics.metrics.k8s.io "waiting" not found');
});

test('kubectl top pods and --containers', async () => {
  const busy = await until(async () => {
    const rows = cells(await kubectl('top', 'pods', '-l', 'app=busy'));
    return milli(rows[1][1]) > 100 && rows;
  }, 'spin uses cpu');
  assert.equal(busy[0], ['NAME', 'CPU(cores)', 'MEMORY(bytes)']);
  assert.is(busy.length, 2, 'only the running pod the selector picks');
  assert.is(busy[1][0], 'busy');
  assert.ok(mebi(busy[1][2]) >= 64, busy[1][2]);
  const rows = cells(await kubectl('top', 'pods', 'busy', '--containers'));
  assert.equal(rows.slice(1).map((r) => r.slice(0, 2)).sort(), [['busy', 'rest'], ['busy', 'spin']]);
});

test('kubectl get pods.metrics.k8s.io, nodes.metrics.k8s.io: metrics-server\'s table (NAME, CPU, MEMORY, WINDOW)', async () => {
  const pods = cells(await kubectl('get', 'pods.metrics.k8s.io', 'busy'));
  assert.equal(pods[0], ['NAME', 'CPU', 'MEMORY', 'WINDOW']);
  assert.equal([pods[1][0], /^\d+[nm]?$/.test(pods[1][1]), /^\d+(Ki|Mi)$/.test(pods[1][2]), /^\d+(\.\d+)?s$/.test(pods[1][3])], ['busy', true, true, true], pods[1].join(' '));
  const nodes = cells(await kubectl('get', 'nodes.metrics.k8s.io'));
  assert.equal([nodes[0], nodes[1][0]], [['NAME', 'CPU', 'MEMORY', 'WINDOW'], 'tn']);
});

test('kubectl top nodes: the node sums its containers, against its allocatable', async () => {
  const rows = cells(await kubectl('top', 'nodes'));
  assert.equal(rows[0], ['NAME', 'CPU(cores)', 'CPU(%)', 'MEMORY(bytes)', 'MEMORY(%)']);
  assert.is(rows[1][0], 'tn');
  assert.ok(mebi(rows[1][3]) >= 64, rows[1][3]);
  assert.match(rows[1][2], /^\d+%$/);
  const n = (await serve.get('/apis/metrics.k8s.io/v1beta1/nodes/tn')).body;
  assert.is(n.kind, 'NodeMetrics');
  assert.ok(parseQuantity(n.usage.cpu) > 0 && formatQuantity(parseQuantity(n.usage.cpu)) === n.usage.cpu, n.usage.cpu);
});

test.run();
