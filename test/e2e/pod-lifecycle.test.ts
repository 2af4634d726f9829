// End to end with real processes on the process runtime: a pod's init containers (one failing first) seen through
// `kubectl get pod --watch` until it runs; a preStop hook running before SIGTERM when git prunes a pod; and a
// HorizontalPodAutoscaler scaling a Deployment up under a cpu hog and down again, keeping its replicas when a
// commit changes the Deployment's other fields (and `plan` saying so).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

let repo: TestRepo, dataDir: string, scratch: string, serve: ServeProcess;
const journal = () => path.join(scratch, 'journal');
const lines = () => (existsSync(journal()) ? readFileSync(journal(), 'utf8').trim().split('\n') : []);
const note = (what: string) => `require('fs').appendFileSync(${JSON.stringify(journal())}, ${JSON.stringify(`${what}\n`)})`;

const podsYaml = () => `apiVersion: v1
kind: Pod
metadata: {name: init-demo}
spec:
  initContainers:
    - name: first
      image: host
      # Fails once, after the test's kubectl watch is up (the file 'go'): a failure before it would not be seen.
      command: ["node", "-e", ${JSON.stringify(`const fs = require('fs'); const f = ${JSON.stringify(path.join(scratch, 'once'))}; const run = () => { if (!fs.existsSync(${JSON.stringify(path.join(scratch, 'go'))})) return setTimeout(run, 50); if (!fs.existsSync(f)) { fs.writeFileSync(f, ''); process.exit(1); } }; run();`)}]
    - name: second
      image: host
      command: ["node", "-e", "setTimeout(() => {}, 1500)"]
  containers:
    - {name: app, image: host, command: ["node", "-e", "setInterval(() => {}, 60000)"]}
---
apiVersion: v1
kind: Pod
metadata: {name: stopper}
spec:
  terminationGracePeriodSeconds: 10
  containers:
    - name: app
      image: host
      command: ["node", "-e", ${JSON.stringify(`process.on('SIGTERM', () => { ${note('SIGTERM')}; process.exit(0); }); setInterval(() => {}, 60000)`)}]
      lifecycle:
        preStop:
          exec: {command: ["node", "-e", ${JSON.stringify(note('preStop'))}]}
`;

// Each replica burns about 20 % of a core while the flag file exists: 200 % of its 100m request, target 50 %.
const hogYaml = (annotation = 'one') => `apiVersion: apps/v1
kind: Deployment
metadata: {name: hog, annotations: {note: ${annotation}}}
spec:
  replicas: 1
  selector: {matchLabels: {app: hog}}
  template:
    metadata: {labels: {app: hog}}
    spec:
      containers:
        - name: hog
          image: host
          resources: {requests: {cpu: 100m}}
          command: ["node", "-e", ${JSON.stringify(`setInterval(() => { if (!require('fs').existsSync(${JSON.stringify(path.join(scratch, 'hog'))})) return; const t = Date.now(); while (Date.now() - t < 20); }, 100)`)}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: hog}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: hog}
  minReplicas: 1
  maxReplicas: 3
  metrics:
    - type: Resource
      resource: {name: cpu, target: {type: Utilization, averageUtilization: 50}}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 2
      policies: [{type: Percent, value: 100, periodSeconds: 1}]
`;

const kubectlArgs = (...args: string[]) => ['--server', serve.url, ...args];
const hpa = async () => (await serve.get('/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/hog')).body;
const replicas = async () => (await serve.get('/apis/apps/v1/namespaces/default/deployments/hog')).body.spec?.replicas;
const hogPods = async () => ((await serve.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dhog')).body.items as any[]).filter((p) => !p.metadata.deletionTimestamp);
const applied = (sha: string) => until(async () => (await serve.get('/status')).body.lastAppliedRevision === sha, `revision ${sha.slice(0, 7)} applied`, 20_000);

test.before(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'convergit-lifecycle-scratch-'));
  repo = makeRepo({ 'pods.yaml': podsYaml(), 'hog.yaml': hogYaml() });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-lifecycle-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--node-cpu', '4', '--node-memory', '4Gi',
    '--restart-backoff', '300ms', '--restart-backoff-max', '1s', '--metric-resolution', '500ms']);
});

test.after(async () => {
  await serve?.shutdown();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

test('kubectl get pod --watch: Init:Error or Init:CrashLoopBackOff, Init:1/2, PodInitializing, then Running', async () => {
  const watch = spawn('kubectl', kubectlArgs('get', 'pod', 'init-demo', '--watch', '--no-headers'), { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, KUBECONFIG: '/dev/null' } });
  let out = '';
  watch.stdout.on('data', (b) => (out += b));
  try {
    await until(() => /init-demo/.test(out), 'kubectl\'s watch listing init-demo', 30_000);
    writeFileSync(path.join(scratch, 'go'), '');
    await until(() => / Running /.test(out), 'init-demo Running in kubectl\'s watch', 30_000);
  } finally {
    watch.kill();
  }
  const statuses = out.trim().split('\n').map((l) => l.trim().split(/\s+/)[2]).filter((s, i, all) => s !== all[i - 1]);
  const failed = statuses.findIndex((s) => s === 'Init:Error' || s === 'Init:CrashLoopBackOff');
  assert.ok(failed >= 0, `the first init container's failure shown: ${statuses}`);
  assert.ok(statuses.indexOf('Init:1/2') > failed, `then the second init container: ${statuses}`);
  assert.is(statuses.at(-1), 'Running');
  const pod = (await serve.get('/api/v1/namespaces/default/pods/init-demo')).body;
  assert.equal(pod.status.initContainerStatuses.map((c: any) => [c.name, c.state.terminated?.reason, c.restartCount]), [['first', 'Completed', 1], ['second', 'Completed', 0]]);
});

test('a pod git prunes runs its preStop hook before SIGTERM', async () => {
  await until(async () => (await serve.get('/api/v1/namespaces/default/pods/stopper')).body.status?.phase === 'Running', 'stopper running');
  repo.write('pods.yaml', podsYaml().split('---')[0]);
  await applied(repo.commit('prune stopper'));
  await until(async () => (await serve.get('/api/v1/namespaces/default/pods/stopper')).status === 404, 'stopper removed', 20_000);
  assert.equal(lines(), ['preStop', 'SIGTERM']);
});

test('an HPA scales its Deployment up under a cpu hog, keeps its count across a commit to the Deployment, and scales down', async () => {
  writeFileSync(path.join(scratch, 'hog'), '');
  await until(async () => (await replicas()) === 3, 'hog scaled up to 3', 60_000);
  const up = await until(async () => { const h = await hpa(); return h.status?.desiredReplicas === 3 && h.status.lastScaleTime && h; }, 'the HPA status');
  assert.equal(up.status.conditions.map((c: any) => c.type), ['AbleToScale', 'ScalingActive', 'ScalingLimited']);
  assert.is(up.status.currentMetrics[0].resource.name, 'cpu');
  // REPLICAS is status.currentReplicas, which the HPA records at its next sync after scaling.
  const row = await until(async () => {
    const r = (await promisify(execFile)('kubectl', kubectlArgs('get', 'hpa', 'hog', '--no-headers'), { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null' } })).stdout.trim().split(/\s{2,}/);
    return r[5] === '3' && r;
  }, 'kubectl get hpa showing 3 replicas');
  assert.equal([row[0], row[1], row[3], row[4], row[5]], ['hog', 'Deployment/hog', '1', '3', '3'], row.join(' | '));
  assert.match(row[2], /^cpu: \d+%\/50%$/);
  const before = (await until(async () => { const ps = await hogPods(); return ps.length === 3 && ps; }, 'three hog pods')).map((p) => p.metadata.uid).sort();

  // The commit changes another field of the Deployment and still says replicas: 1.
  repo.git('checkout', '-q', '-b', 'tweak');
  repo.write('hog.yaml', hogYaml('two'));
  repo.commit('annotate hog');
  const plan = (await serve.get('/plan?ref=tweak')).body;
  const owned = plan.warnings.find((w: any) => w.code === 'ReplicasOwnedByAutoscaler');
  assert.ok(owned?.message.startsWith('replicas owned by HorizontalPodAutoscaler hog'), JSON.stringify(plan.warnings));
  assert.ok(plan.changes.some((c: any) => c.kind === 'Deployment' && !c.diff.some((l: string) => /replicas/.test(l))), 'the change is the annotation only');
  repo.git('checkout', '-q', 'main');
  repo.git('merge', '-q', '--ff-only', 'tweak');
  await applied(repo.git('rev-parse', 'HEAD'));
  const d = (await serve.get('/apis/apps/v1/namespaces/default/deployments/hog')).body;
  assert.equal([d.metadata.annotations.note, d.spec.replicas], ['two', 3]);
  assert.equal((await hogPods()).map((p) => p.metadata.uid).sort(), before, 'no pod was removed and made again');

  rmSync(path.join(scratch, 'hog'));
  await until(async () => (await replicas()) === 1, 'hog scaled down to 1 after its 2 s window', 60_000).catch(async (e) => {
    const h = await hpa(), m = (await serve.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods')).body;
    const ps = (await hogPods()).map((p) => `${p.metadata.name} ${p.status?.phase} ready=${p.status?.conditions?.find((c: any) => c.type === 'Ready')?.status}`);
    throw new Error(`${e.message}: replicas ${await replicas()}; hpa status ${JSON.stringify(h.status)}; pods ${ps.join(', ')}; metrics ${JSON.stringify(m.items?.map((i: any) => [i.metadata.name, i.timestamp, i.containers]))}`);
  });
  const events = (await serve.get('/api/v1/namespaces/default/events')).body.items.filter((e: any) => e.involvedObject.kind === 'HorizontalPodAutoscaler');
  assert.ok(events.some((e: any) => e.reason === 'SuccessfulRescale' && e.message === 'New size: 1; reason: All metrics below target'), JSON.stringify(events.map((e: any) => e.message)));
});

test.run();
