// End to end with real processes: a StatefulSet committed to a repository and run by `convergit serve` starts its
// ordinals in order, rolls a new template from the highest ordinal, goes back to its first ControllerRevision on a
// `git revert` with each ordinal's data kept on its own claim; a commit pruning a PersistentVolumeClaim is refused until the commit confirms it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { promisify } from 'node:util';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const SERVER = readFileSync(new URL('../../examples-repo/apps/backend/server.js', import.meta.url), 'utf8');
const ARGS = ['--node-cpu', '4', '--node-memory', '4Gi', '--restart-backoff', '300ms', '--restart-backoff-max', '2s'];

const kv = (version: string) => `apiVersion: v1
kind: Service
metadata: {name: kv}
spec:
  clusterIP: None
  selector: {app: kv}
  ports: [{name: kv, port: 9000}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: kv}
spec:
  serviceName: kv
  replicas: 3
  selector: {matchLabels: {app: kv}}
  template:
    metadata: {labels: {app: kv}}
    spec:
      containers:
        - name: kv
          image: git:apps/kv
          command: ["node", "server.js"]
          env: [{name: VERSION, value: "${version}"}, {name: DATA_DIR, value: /srv}]
          ports: [{name: kv, containerPort: 9000}]
          readinessProbe: {tcpSocket: {port: kv}, periodSeconds: 1}
          # Each ordinal keeps its values on its own claim (/srv exists on every host: bound over it in the pod's mount namespace).
          volumeMounts: [{name: data, mountPath: /srv}]
  volumeClaimTemplates:
    - metadata: {name: data}
      spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Mi}}}
`;
const SCRATCH = `apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: scratch}
spec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 10Mi}}}
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess;

const items = async (p: string) => ((await serve.get(p)).body?.items ?? []) as any[];
const pods = async () => (await items('/api/v1/namespaces/default/pods?labelSelector=app%3Dkv')).filter((p) => !p.metadata.deletionTimestamp);
const set = async () => (await serve.get('/apis/apps/v1/namespaces/default/statefulsets/kv')).body;
const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
const revisionOf = (p: any) => p.metadata.labels['controller-revision-hash'];
const status = async () => (await serve.get('/status')).body;
const applied = (sha: string) => until(async () => (await status()).lastAppliedRevision === sha, `revision ${sha.slice(0, 7)} applied`);

/** Every ordinal Ready at `revision`, and the set says its rolling update is complete. */
async function rolledOut(revision: () => string | undefined, what: string) {
  return until(async () => {
    const [s, ps] = [await set(), await pods()];
    const rev = revision() ?? s.status?.updateRevision;
    return s.status?.currentRevision === rev && s.status?.readyReplicas === 3 && ps.length === 3 && ps.every((p) => ready(p) && revisionOf(p) === rev) && s;
  }, what, 60_000);
}

test.before(async () => {
  repo = makeRepo({ 'kv.yaml': kv('v1'), 'scratch.yaml': SCRATCH, 'apps/kv/server.js': SERVER });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-statefulset-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, ...ARGS]);
});

test.after(async () => {
  await serve?.shutdown();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

let rev1 = '';

test('3 ordinals start in order, each with its claim, hostname and subdomain', async () => {
  // Whenever a pod is seen, every lower ordinal is already Ready (OrderedReady).
  await until(async () => {
    const ps = await pods();
    for (const p of ps) {
      const n = Number(p.metadata.name.slice('kv-'.length));
      for (let lower = 0; lower < n; lower++) {
        const before = ps.find((q) => q.metadata.name === `kv-${lower}`);
        assert.ok(before && ready(before), `kv-${n} exists while kv-${lower} is not Ready`);
      }
    }
    return ps.length === 3 && ps.every(ready);
  }, 'kv-0, kv-1, kv-2 Ready', 60_000);
  const s = await rolledOut(() => undefined, 'first rollout');
  rev1 = s.status.currentRevision;
  assert.match(rev1, /^kv-[bcdfghjklmnpqrstvwxz2456789]+$/);
  const ps = (await pods()).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  assert.equal(ps.map((p) => [p.metadata.name, p.spec.hostname, p.spec.subdomain, p.metadata.labels['apps.kubernetes.io/pod-index']]),
    [['kv-0', 'kv-0', 'kv', '0'], ['kv-1', 'kv-1', 'kv', '1'], ['kv-2', 'kv-2', 'kv', '2']]);
  const claims = (await items('/api/v1/namespaces/default/persistentvolumeclaims')).map((c) => c.metadata.name).sort();
  assert.equal(claims, ['data-kv-0', 'data-kv-1', 'data-kv-2', 'scratch']);
  assert.equal(s.status.replicas, 3);
});

/** The value of `key` in ordinal `n`'s server (POST increments it). */
async function kvValue(n: number, key: string, method = 'GET'): Promise<number> {
  const p = (await pods()).find((q) => q.metadata.name === `kv-${n}`);
  const res = await fetch(`http://${p.status.podIP}:9000/kv/${key}${method === 'POST' ? '/incr' : ''}`, { method });
  return ((await res.json()) as { value: number }).value;
}

test('a new template rolls from the highest ordinal; a git revert goes back to the first ControllerRevision', async () => {
  // Each ordinal's own data, on its own claim: ordinal n counts to n + 1.
  for (const n of [0, 1, 2]) for (let i = 0; i <= n; i++) await kvValue(n, 'visits', 'POST');
  repo.write('kv.yaml', kv('v2'));
  const sha2 = repo.commit('kv v2');
  await applied(sha2);
  // The first pod at the new revision is kv-2, and while it is the only one, kv-0 and kv-1 keep the old one.
  const firstNew = await until(async () => {
    const s = await set();
    const rev = s.status?.updateRevision;
    const moved = rev && rev !== rev1 ? (await pods()).filter((p) => revisionOf(p) === rev) : [];
    return moved.length > 0 && moved.map((p) => p.metadata.name);
  }, 'a pod at the new revision', 60_000);
  assert.equal(firstNew, ['kv-2']);
  const s2 = await rolledOut(() => undefined, 'v2 rolled out');
  const rev2 = s2.status.currentRevision;
  assert.is.not(rev2, rev1);
  assert.equal((await pods())[0].spec.containers[0].env[0], { name: 'VERSION', value: 'v2' });

  repo.git('revert', '--no-edit', 'HEAD');
  await applied(repo.git('rev-parse', 'HEAD'));
  // The revert rolls like any change (kv-2 first); its pods are made from the first revision again.
  await until(async () => (await pods()).some((p) => p.metadata.name === 'kv-2' && revisionOf(p) === rev1 && ready(p)), 'kv-2 back at the first revision', 60_000);
  assert.is((await set()).status.updateRevision, rev1);
  const revisions = (await items('/apis/apps/v1/namespaces/default/controllerrevisions')).map((r) => [r.metadata.name, r.revision]).sort();
  assert.equal(revisions, [[rev1, 3], [rev2, 2]].sort(), 'the first revision renumbered, no new one');
  // Every pod was replaced twice; each ordinal still has its own data.
  await rolledOut(() => rev1, 'back at the first revision');
  assert.equal([await kvValue(0, 'visits'), await kvValue(1, 'visits'), await kvValue(2, 'visits')], [1, 2, 3]);
  // kubectl reads the history from the ControllerRevisions, with the commits as change-causes.
  const kubectl = async (...args: string[]) => (await promisify(execFile)('kubectl', ['--server', serve.url, ...args], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null' } })).stdout;
  assert.match(await kubectl('get', 'controllerrevisions'), new RegExp(`${rev1}\\s+statefulset\\.apps/kv\\s+3\\s`));
  const stdout = await kubectl('rollout', 'history', 'statefulset/kv');
  assert.match(stdout, new RegExp(`\\n2\\s+${sha2.slice(0, 7)} kv v2\\n3\\s+[0-9a-f]{7} initial\\n`));
});

test('a commit pruning a PersistentVolumeClaim is refused, naming it; the trailer confirms it', async () => {
  const before = (await status()).lastAppliedRevision;
  repo.remove('scratch.yaml');
  const sha = repo.commit('drop scratch');
  const refused = await until(async () => { const s = await status(); return s.head === sha && s.state === 'failed' && s; }, 'refused');
  assert.match(refused.error, 'deletes data without confirmation');
  assert.match(refused.error, 'PersistentVolumeClaim default/scratch');
  assert.is(refused.lastAppliedRevision, before);
  assert.is((await serve.get('/api/v1/namespaces/default/persistentvolumeclaims/scratch')).status, 200, 'still there');
  // plan against the running server says the same, and exits 1.
  const plan = await new Promise<{ code: number; stdout: string }>((resolve) => execFile(process.execPath,
    [new URL('../../bin/convergit.js', import.meta.url).pathname, 'plan', '--repo', repo.dir, '--ref', sha, '--server', serve.url],
    { encoding: 'utf8', env: { ...process.env, XDG_CACHE_HOME: dataDir } }, (err, stdout) => resolve({ code: err ? Number(err.code) : 0, stdout })));
  assert.is(plan.code, 1, plan.stdout);
  assert.match(plan.stdout, 'DATA DELETION (1):\n  PersistentVolumeClaim default/scratch is pruned');

  const confirmed = repo.commit('drop scratch, really\n\nConvergit-Allow-Data-Deletion: PersistentVolumeClaim/scratch');
  await applied(confirmed);
  assert.is((await serve.get('/api/v1/namespaces/default/persistentvolumeclaims/scratch')).status, 404);
  assert.is((await serve.get('/api/v1/namespaces/default/persistentvolumeclaims/data-kv-0')).status, 200, 'the StatefulSet\'s claims stay');
});

test.run();
