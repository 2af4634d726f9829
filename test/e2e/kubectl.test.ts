// The real kubectl 1.32, @kubernetes/client-node and the Python client (python3-kubernetes) against a real
// `convergit serve` running the example apps: what a Kubernetes user types daily behaves as on a cluster.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const EXAMPLES = new URL('../../examples-repo/', import.meta.url).pathname;
const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
const PYTHON = '/usr/bin/python3';
const NODE = 'kn';

let repo: TestRepo, dataDir: string, tmp: string, serve: ServeProcess;

interface Run { code: number; stdout: string; stderr: string }
/** Runs a command to its end; never throws on a non-zero exit (tests look at the code). */
function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof (err as any).code === 'number' ? (err as any).code : 1) : 0, stdout, stderr }));
  });
}
const kubectl = (...args: string[]) => run('kubectl', ['--server', serve.url, ...args]);
const ok = async (...args: string[]) => {
  const r = await kubectl(...args);
  assert.is(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const header = (out: string) => out.split('\n')[0].trim().split(/\s{2,}/);
const podNames = async () => ((await serve.get('/api/v1/namespaces/default/pods')).body.items as any[]).map((p) => p.metadata.name as string);

test.before(async () => {
  const files: Record<string, string> = {};
  for (const f of ['greeting.yaml', 'backend.yaml', 'apps/web/server.js', 'apps/backend/server.js']) files[f] = readFileSync(path.join(EXAMPLES, f), 'utf8');
  files['web.yaml'] = readFileSync(path.join(EXAMPLES, 'web.yaml'), 'utf8').replace(/\n\s*nodePort: \d+/, '');
  // Kinds whose columns are checked below: a suspended CronJob never starts a pod the other tests would count.
  files['extra.yaml'] = `apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec: {minAvailable: 2, selector: {matchLabels: {app: web}}}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: edge}
spec: {controller: example.com/edge, parameters: {apiGroup: k8s.example.com, kind: EdgeParams, name: public}}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly}
spec:
  schedule: "0 3 * * *"
  suspend: true
  jobTemplate: {spec: {template: {spec: {restartPolicy: OnFailure, containers: [{name: c, image: host, command: ["true"]}]}}}}
`;
  tmp = mkdtempSync(path.join(tmpdir(), 'convergit-kubectl-'));
  // Prints a line, then a second one once the test makes its mark file: two lines written at known moments.
  files['ticker.yaml'] = `apiVersion: v1
kind: Pod
metadata:
  name: ticker
spec:
  containers:
  - name: ticker
    image: host
    command: [sh, -c, 'echo first; while [ ! -e ${path.join(tmp, 'mark')} ]; do sleep 0.05; done; echo second; exec sleep 100000']
`;
  repo = makeRepo(files, { message: 'deploy web and backend' });
  dataDir = path.join(tmp, 'shop');
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--node-name', NODE, '--node-cpu', '4', '--node-memory', '4Gi']);
  await until(async () => {
    const ps = ((await serve.get('/api/v1/namespaces/default/pods')).body?.items ?? []) as any[];
    return ps.length === 5 && ps.every((p) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  }, 'the four example pods and the ticker ready', 60_000);
});

test.after(async () => {
  await serve?.shutdown();
  repo?.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

test('get --field-selector filters as kube-apiserver does, and refuses unsupported fields', async () => {
  assert.match(await kubectl('get', 'pods', '--field-selector', 'status.phase=Pending').then((r) => r.stderr), /No resources found in default namespace/);
  const running = await ok('get', 'pods', '--field-selector', `status.phase=Running,spec.nodeName=${NODE}`, '-o', 'name');
  assert.is(running.trim().split('\n').length, 5);
  assert.is((await ok('get', 'pods', '--field-selector', 'spec.nodeName!=kn', '-o', 'name')).trim(), '');
  const bad = await kubectl('get', 'pods', '--field-selector', 'spec.foo=x');
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /field label not supported: spec\.foo/);
  // describe filters events by involvedObject: one pod's describe shows none of another pod's events.
  const [a, b] = (await podNames()).filter((n) => n.startsWith('web-'));
  const described = await ok('describe', 'pod', a);
  assert.match(described, new RegExp(`Successfully assigned default/${a} to ${NODE}`));
  assert.not.match(described, new RegExp(`assigned default/${b}`));
});

test('get events --sort-by a field outside metadata, and -o wide with Kubernetes\' columns', async () => {
  const events = await ok('get', 'events', '--sort-by=.lastTimestamp');
  assert.equal(header(events), ['LAST SEEN', 'TYPE', 'REASON', 'OBJECT', 'MESSAGE']);
  assert.match(events, /Scheduled\s+pod\/web-/);
  assert.equal(header(await ok('get', 'deploy', '-o', 'wide')), ['NAME', 'READY', 'UP-TO-DATE', 'AVAILABLE', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
  assert.match(await ok('get', 'deploy', 'web', '-o', 'wide'), /web\s+3\/3\s+3\s+3\s+\S+\s+web\s+git:apps\/web@[0-9a-f]{40}\s+app=web/);
  assert.equal(header(await ok('get', 'rs', '-o', 'wide')), ['NAME', 'DESIRED', 'CURRENT', 'READY', 'AGE', 'CONTAINERS', 'IMAGES', 'SELECTOR']);
  assert.match(await ok('get', 'svc', 'web', '-o', 'wide'), /SELECTOR\n.*\sapp=web\n/);
  assert.equal(header(await ok('get', 'pods', '-o', 'wide')), ['NAME', 'READY', 'STATUS', 'RESTARTS', 'AGE', 'IP', 'NODE', 'NOMINATED NODE', 'READINESS GATES']);
  const nodes = await ok('get', 'nodes', '-o', 'wide');
  assert.equal(header(nodes), ['NAME', 'STATUS', 'ROLES', 'AGE', 'VERSION', 'INTERNAL-IP', 'EXTERNAL-IP', 'OS-IMAGE', 'KERNEL-VERSION', 'CONTAINER-RUNTIME']);
  assert.match(nodes, /kn\s+Ready\s+<none>\s+\S+\s+v1\.32\.0-convergit\s/);
});

test('get pdb, ingressclass, sts, cronjob, pvc: Kubernetes\' columns and values', async () => {
  const pdb = await until(async () => { const out = await ok('get', 'pdb'); return /web\s+2\s+N\/A\s+1\s/.test(out) && out; }, 'the PDB allowing one disruption');
  assert.equal(header(pdb), ['NAME', 'MIN AVAILABLE', 'MAX UNAVAILABLE', 'ALLOWED DISRUPTIONS', 'AGE']);
  const ic = await ok('get', 'ingressclass', 'edge');
  assert.equal(header(ic), ['NAME', 'CONTROLLER', 'PARAMETERS', 'AGE']);
  assert.match(ic, /edge\s+example\.com\/edge\s+EdgeParams\.k8s\.example\.com\/public\s/);
  const sts = await ok('get', 'sts', '-o', 'wide');
  assert.equal(header(sts), ['NAME', 'READY', 'AGE', 'CONTAINERS', 'IMAGES']);
  assert.match(sts, /backend\s+1\/1\s+\S+\s+backend\s+git:apps\/backend@[0-9a-f]{40}\n/);
  const cron = await ok('get', 'cronjob');
  assert.equal(header(cron), ['NAME', 'SCHEDULE', 'TIMEZONE', 'SUSPEND', 'ACTIVE', 'LAST SCHEDULE', 'AGE']);
  assert.match(cron, /nightly\s+0 3 \* \* \*\s+<none>\s+True\s+0\s+<none>\s/);
  const pvc = await ok('get', 'pvc', 'data-backend-0');
  assert.equal(header(pvc), ['NAME', 'STATUS', 'VOLUME', 'CAPACITY', 'ACCESS MODES', 'STORAGECLASS', 'VOLUMEATTRIBUTESCLASS', 'AGE']);
  assert.match(pvc, /data-backend-0\s+Bound\s+pvc-\S+\s+64Mi\s+RWO\s+local-path\s+<unset>\s/);
});

test('namespaces, get all, describe svc with its endpoints, status and scale subresources', async () => {
  const ns = await ok('get', 'ns', '-o', 'name');
  for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) assert.ok(ns.includes(`namespace/${n}\n`), ns);
  assert.match(await ok('get', 'ns', 'default'), /default\s+Active/);
  const all = await ok('get', 'all');
  for (const r of ['pod/web-', 'service/web', 'deployment.apps/web', 'replicaset.apps/web-']) assert.ok(all.includes(r), all);
  const svc = await ok('describe', 'svc', 'web');
  const ips = ((await serve.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')).body.items as any[]).map((p) => `${p.status.podIP}:8080`).sort();
  const line = /Endpoints:\s+(\S+)/.exec(svc)?.[1];
  assert.equal(line?.split(',').sort(), ips, svc);
  assert.is(JSON.parse(await ok('get', '--raw', '/apis/apps/v1/namespaces/default/deployments/web/scale')).spec.replicas, 3);
  assert.is(JSON.parse(await ok('get', '--raw', '/apis/apps/v1/namespaces/default/deployments/web/status')).status.replicas, 3);
});

test('get cs: the store, scheduler and controller manager of this serve probed Healthy; get apiservices: Local, True', async () => {
  const cs = await kubectl('get', 'cs');
  assert.is(cs.code, 0, cs.stderr);
  for (const c of ['scheduler', 'controller-manager', 'etcd-0']) assert.match(cs.stdout, new RegExp(`\\n${c}\\s+Healthy\\s+ok\\s*\\n`), cs.stdout);
  assert.match(cs.stderr, /Warning: v1 ComponentStatus is deprecated in v1\.19\+/);
  assert.match(await ok('get', 'apiservices', 'v1.apps', 'v1.'), /v1\.apps\s+Local\s+True\s/);
});

test('auth can-i (protobuf bodies from kubectl) and auth whoami', async () => {
  const yes = await kubectl('auth', 'can-i', 'list', 'pods');
  assert.equal([yes.code, yes.stdout.trim()], [0, 'yes']);
  const no = await kubectl('auth', 'can-i', 'delete', 'deployments');
  assert.is(no.code, 1);
  assert.match(no.stdout, /^no - convergit's API is read-only: change the system by committing to /);
  assert.match(await ok('auth', 'can-i', '--list'), /\*\.\*\s+\[\]\s+\[\]\s+\[get list watch\]/);
  assert.match(await ok('auth', 'whoami'), /Username\s+system:anonymous/);
});

test('logs --timestamps, --since-time on the process runtime: each line the time it was written', async () => {
  const stamped = async () => (await ok('logs', 'ticker', '--timestamps')).trim().split('\n').map((l) => {
    const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (.*)$/.exec(l);
    assert.ok(m, `an RFC 3339 time with nine digits, as the kubelet prints it: ${l}`);
    return { at: Date.parse(m![1]), text: m![2] };
  });
  const [first] = await stamped();
  assert.is(first.text, 'first');
  // The mark is made in the next whole second: kubectl sends --since-time in whole seconds.
  await until(() => Math.floor(Date.now() / 1000) > Math.floor(first.at / 1000), 'the next second');
  const mark = Date.now();
  writeFileSync(path.join(tmp, 'mark'), '');
  await until(async () => (await ok('logs', 'ticker')) === 'first\nsecond\n', 'the second line');
  const lines = await stamped();
  assert.equal(lines.map((l) => l.text), ['first', 'second']);
  assert.is(lines[0].at, first.at, 'a line keeps the time it was first seen');
  assert.ok(lines[1].at >= mark, 'the second line is timed after the mark that let it be written');
  const since = new Date(Math.floor(mark / 1000) * 1000).toISOString().replace('.000Z', 'Z');
  assert.is(await ok('logs', 'ticker', `--since-time=${since}`), 'second\n');
  assert.is(await ok('logs', 'ticker', '--since=1h'), 'first\nsecond\n');
});

test('logs --since and --since-time', async () => {
  const pod = (await podNames()).find((n) => n.startsWith('web-'))!;
  assert.match(await ok('logs', pod, '--since=1h'), /web v1 listening/);
  const future = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d+Z$/, 'Z');
  assert.is(await ok('logs', pod, `--since-time=${future}`), '', 'nothing written after a time still to come');
  const bad = await kubectl('get', '--raw', `/api/v1/namespaces/default/pods/${pod}/log?sinceSeconds=0`);
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /sinceSeconds: Invalid value/);
});

test('chunked lists: --chunk-size pages through everything; a garbage continue token is a 400', async () => {
  const out = await ok('get', 'pods', '--chunk-size=1', '-o', 'name');
  assert.equal(out.trim().split('\n').map((l) => l.slice('pod/'.length)).sort(), (await podNames()).sort());
  const bad = await kubectl('get', '--raw', '/api/v1/pods?limit=1&continue=garbage');
  assert.is(bad.code, 1);
  assert.match(bad.stderr, /BadRequest|invalid continue token/);
});

test('explain works and apply reaches the server\'s commit-to-git refusal', async () => {
  const explain = await ok('explain', 'deployment.spec.replicas');
  assert.match(explain, /FIELD: replicas <integer>/);
  assert.match(explain, /Number of desired pods/);
  const file = path.join(tmp, 'cm.yaml');
  writeFileSync(file, 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: extra\ndata:\n  a: b\n');
  const apply = await kubectl('apply', '-f', file);
  assert.is(apply.code, 1);
  assert.not.match(apply.stderr, /openapi/);
  assert.match(apply.stderr, /MethodNotAllowed.*convergit is read-only: POST is not allowed\. Change the system by committing to /);
});

test('rollout history: CHANGE-CAUSE is the commit that caused the revision', async () => {
  const sha = repo.git('rev-parse', '--short=7', 'HEAD');
  const history = await ok('rollout', 'history', 'deploy/web');
  assert.match(history, new RegExp(`REVISION\\s+CHANGE-CAUSE\\n1\\s+${sha} deploy web and backend\\n`));
});

test('exec, port-forward say what to do instead; cordon and drain exit non-zero', async () => {
  const pod = (await podNames())[0];
  const exec = await kubectl('exec', pod, '--', 'ls');
  assert.is(exec.code, 1);
  assert.match(exec.stderr, /does not exec into containers.*kubectl logs/);
  const pf = await kubectl('port-forward', pod, '18080:8080');
  assert.is(pf.code, 1);
  assert.match(pf.stderr, /Service of type NodePort or LoadBalancer/);
  for (const cmd of ['cordon', 'uncordon', 'drain']) {
    const r = await kubectl(cmd, NODE);
    assert.is(r.code, 1, `${cmd}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, new RegExp(`kubectl ${cmd} would change a Node, which is not in git`));
  }
  assert.is((await serve.get(`/api/v1/nodes/${NODE}`)).body.spec.unschedulable, undefined, 'the node is as it was');
});

test('convergit kubeconfig: plain kubectl works with it; --merge keeps the contexts already there', async () => {
  const printed = await run(process.execPath, [BIN, 'kubeconfig', '--data-dir', dataDir]);
  assert.is(printed.code, 0, printed.stderr);
  assert.match(printed.stdout, /current-context: convergit-shop/);
  const file = path.join(tmp, 'printed-config');
  writeFileSync(file, printed.stdout);
  const pods = await run('kubectl', ['get', 'pods', '-o', 'name'], { KUBECONFIG: file });
  assert.is(pods.code, 0, pods.stderr);
  assert.is(pods.stdout.trim().split('\n').length, 5);
  const existing = path.join(tmp, 'kube', 'config');
  const setOther = await run('kubectl', ['config', 'set-cluster', 'other', '--server=https://other.example:6443'], { KUBECONFIG: existing });
  assert.is(setOther.code, 0, setOther.stderr);
  await run('kubectl', ['config', 'set-context', 'other', '--cluster=other'], { KUBECONFIG: existing });
  const merged = await run(process.execPath, [BIN, 'kubeconfig', '--data-dir', dataDir, '--merge'], { KUBECONFIG: `${existing}${path.delimiter}${file}` });
  assert.is(merged.code, 0, merged.stderr);
  const contexts = await run('kubectl', ['config', 'get-contexts', '-o', 'name'], { KUBECONFIG: existing });
  assert.equal(contexts.stdout.trim().split('\n').sort(), ['convergit-shop', 'other']);
  assert.is((await run('kubectl', ['config', 'current-context'], { KUBECONFIG: existing })).stdout.trim(), 'convergit-shop');
  assert.is((await run('kubectl', ['get', 'deploy', 'web', '-o', 'name'], { KUBECONFIG: existing })).stdout.trim(), 'deployment.apps/web');
  const none = await run(process.execPath, [BIN, 'kubeconfig', '--data-dir', path.join(tmp, 'nothing-here')]);
  assert.is(none.code, 2);
  assert.match(none.stderr, /^convergit: no convergit serve has run on/);
  assert.not.ok(existsSync(path.join(tmp, 'nothing-here')));
});

test('a change reaches kubectl get -w, a client-node informer and a Python watch', async () => {
  const watchers: ChildProcess[] = [];
  let rows = '';
  const w = spawn('kubectl', ['--server', serve.url, 'get', 'deploy', 'web', '-w', '--no-headers'], { stdio: ['ignore', 'pipe', 'pipe'] });
  watchers.push(w);
  w.stdout!.on('data', (d) => (rows += d));
  // Python's Watch sends watch=True; it prints every event until it sees a DELETED one.
  const py = spawn(PYTHON, ['-c', `
import sys
from kubernetes import client, watch
cfg = client.Configuration(); cfg.host = sys.argv[1]
api = client.CoreV1Api(client.ApiClient(cfg))
for e in watch.Watch().stream(api.list_namespaced_pod, 'default', label_selector='app=web', timeout_seconds=60):
    print(e['type'], e['object'].metadata.name, flush=True)
    if e['type'] == 'DELETED':
        break
`, serve.url], { stdio: ['ignore', 'pipe', 'pipe'] });
  watchers.push(py);
  let pyOut = '';
  py.stdout!.on('data', (d) => (pyOut += d));
  py.stderr!.on('data', (d) => (pyOut += d));
  // client-node reads the kubeconfig convergit prints (with insecure-skip-tls-verify: it refuses http otherwise).
  const kc = new k8s.KubeConfig();
  kc.loadFromString((await run(process.execPath, [BIN, 'kubeconfig', '--data-dir', dataDir])).stdout);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const informer = k8s.makeInformer(kc, '/api/v1/namespaces/default/pods', () => core.listNamespacedPod({ namespace: 'default', labelSelector: 'app=web' }), 'app=web');
  const seen: string[] = [];
  informer.on('add', (p) => seen.push(`add ${p.metadata!.name}`));
  informer.on('delete', (p) => seen.push(`delete ${p.metadata!.name}`));
  try {
    await informer.start();
    await until(() => /^web\s+3\/3/m.test(rows), 'kubectl get -w to print the first row');
    await until(() => (pyOut.match(/^ADDED web-/gm) ?? []).length === 3, 'the Python watch to list the pods first');
    await until(() => seen.filter((s) => s.startsWith('add')).length === 3, 'the informer to list the pods');
    repo.write('web.yaml', readFileSync(path.join(repo.work, 'web.yaml'), 'utf8').replace('replicas: 3', 'replicas: 2'));
    repo.commit('scale web to 2');
    await until(() => /^web\s+\d\/2/m.test(rows), 'kubectl get -w to print the change', 30_000);
    assert.is(w.exitCode, null, 'kubectl get -w is still watching');
    await until(() => /^DELETED web-/m.test(pyOut), 'the Python watch to see the pod deleted', 30_000);
    await until(() => seen.some((s) => s.startsWith('delete web-')), 'the informer to see the pod deleted', 30_000);
    const gone = /^DELETED (\S+)/m.exec(pyOut)![1];
    assert.ok(seen.includes(`delete ${gone}`), `${seen.join(', ')} includes ${gone}`);
  } finally {
    await informer.stop();
    for (const c of watchers) if (c.exitCode === null) c.kill();
  }
});

test.run();
