// `npm run bench`, workload part: commit → 10 pods Ready, and a rolling update of them, with real processes.
// Not a test: nothing here asserts a time. Figures are taken by polling the Deployment every POLL_MS; what the
// time is spent on comes from a watch on pods (each pod's created / scheduled / running / Ready, as the client
// sees them), which costs the server one stream instead of more polling.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const REPLICAS = 10;
const POLL_MS = 20;
const PROBE_PERIOD_S = 1;
const ARGS = ['--node-cpu', '16', '--node-memory', '16Gi'];
const REVISION = 'deployment.kubernetes.io/revision';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (n: number) => `${n.toFixed(1)} ms`;
const spread = (xs: number[]) => `median of ${xs.length}: ${ms(median(xs))} (min ${ms(Math.min(...xs))}, max ${ms(Math.max(...xs))})`;
const sleep = (n: number) => new Promise((r) => setTimeout(r, n));

const server = (version: string, run: number) => `// bench app, run ${run}
const http = require('node:http');
const VERSION = '${version}';
const server = http.createServer((req, res) => res.end(req.url === '/healthz' ? 'ok\\n' : VERSION + '\\n'));
server.listen(Number(process.env.PORT || 8080), process.env.POD_IP || '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

const deployment = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${REPLICAS}
  selector:
    matchLabels: { app: ${name} }
  template:
    metadata:
      labels: { app: ${name} }
    spec:
      containers:
        - name: app
          image: git:apps/${name}
          command: ["node", "server.js"]
          ports:
            - name: http
              containerPort: 8080
          readinessProbe:
            httpGet: { path: /healthz, port: http }
            periodSeconds: ${PROBE_PERIOD_S}
          resources:
            requests: { cpu: 100m, memory: 32Mi }
`;

/** What the client saw of one pod: performance.now() when each event arrived. */
interface PodSeen {
  image: string;
  created: number;
  scheduled?: number;
  running?: number;
  ready?: number;
  /** A deletion mark, then the object removed. */
  terminating?: number;
  removed?: number;
}

/** One long watch on the namespace's pods; each event is stamped on arrival. */
class PodWatch {
  readonly pods = new Map<string, PodSeen>();
  private abort = new AbortController();
  private done: Promise<void>;

  constructor(url: string) {
    this.done = this.read(url).catch((e) => { if (!this.abort.signal.aborted) throw e; });
  }

  private async read(url: string) {
    const res = await fetch(`${url}/api/v1/namespaces/default/pods?watch=true`, { signal: this.abort.signal });
    const decoder = new TextDecoder();
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        if (line.trim()) this.event(JSON.parse(line));
      }
    }
  }

  private event(e: { type: string; object: any }) {
    const now = performance.now();
    const p = e.object;
    const name = p.metadata.name as string;
    let seen = this.pods.get(name);
    if (!seen) this.pods.set(name, (seen = { image: p.spec?.containers?.[0]?.image ?? '', created: now }));
    if (e.type === 'DELETED') { seen.removed ??= now; return; }
    if (p.spec?.nodeName) seen.scheduled ??= now;
    if (p.status?.containerStatuses?.[0]?.state?.running) seen.running ??= now;
    if (p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')) seen.ready ??= now;
    if (p.metadata.deletionTimestamp) seen.terminating ??= now;
  }

  /** Pods of a Deployment, by the name prefix its ReplicaSets give them. */
  of(deployment: string): PodSeen[] {
    return [...this.pods.entries()].filter(([n]) => n.startsWith(`${deployment}-`)).map(([, p]) => p);
  }

  async stop() {
    this.abort.abort();
    await this.done;
  }
}

interface SyncTimes { detected: number; applied: number }
/** `committed`: when `git add` + `git commit` + `git rev-parse` returned. */
interface DeployRun extends SyncTimes { total: number; committed: number; probeFailed: number; firstCreated: number; created: number; scheduled: number; running: number; ready: number; startToReady: number[] }
interface RolloutRun extends SyncTimes { total: number; committed: number; firstCreated: number; newReady: number; oldGone: number; waves: number }

async function waitDeployment(serve: ServeProcess, name: string, ok: (d: any) => boolean, what: string, timeoutMs = 60_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const d = (await serve.get(`/apis/apps/v1/namespaces/default/deployments/${name}`)).body;
    if (d?.metadata && ok(d)) return d;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}: ${JSON.stringify(d?.status)}`);
    await sleep(POLL_MS);
  }
}

const current = (d: any) => d.status?.observedGeneration === d.metadata.generation;
const max = (xs: (number | undefined)[]) => Math.max(...xs.map((x) => x ?? NaN));

/** Groups new pods' Ready times into waves: a gap of more than half a probe period starts a new one. */
function waves(readyTimes: number[]) {
  const ts = [...readyTimes].sort((a, b) => a - b);
  let n = ts.length ? 1 : 0;
  for (let i = 1; i < ts.length; i++) if (ts[i] - ts[i - 1] > (PROBE_PERIOD_S * 1000) / 2) n++;
  return n;
}

/** When serve detected and applied a commit (its /status history, wall clock), in ms since `wall`. */
async function syncTimes(serve: ServeProcess, sha: string, wall: number): Promise<SyncTimes> {
  const h = ((await serve.get('/status')).body.history as any[]).find((e) => e.sha === sha);
  return { detected: Date.parse(h?.detectedAt) - wall, applied: Date.parse(h?.appliedAt) - wall };
}

const podsOf = async (serve: ServeProcess, name: string) =>
  (await serve.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${name}`)).body.items as any[];

async function oneRun(repo: TestRepo, serve: ServeProcess, watch: PodWatch, run: number): Promise<{ deploy: DeployRun; rollout: RolloutRun; remove: number }> {
  const name = `bench-${run}`;

  // 1. A new Deployment of 10 replicas, its app in the same commit.
  repo.write(`apps/${name}/server.js`, server('v1', run));
  repo.write(`${name}.yaml`, deployment(name));
  const t0 = performance.now(), wall0 = Date.now();
  const sha0 = repo.commit(`deploy ${name}`);
  const committed = performance.now() - t0;
  const d1 = await waitDeployment(serve, name, (d) => current(d) && d.status.readyReplicas === REPLICAS && d.status.availableReplicas === REPLICAS, `${name} ready`);
  const total = performance.now() - t0;
  const ps = watch.of(name);
  const events = (await serve.get('/api/v1/namespaces/default/events')).body.items as any[];
  const probeFailed = new Set(events.filter((e) => e.reason === 'Unhealthy' && e.involvedObject?.name?.startsWith(`${name}-`)).map((e) => e.involvedObject.name)).size;
  const since = (t: number | undefined) => (t ?? NaN) - t0;
  const deploy: DeployRun = {
    total,
    committed,
    probeFailed,
    ...(await syncTimes(serve, sha0, wall0)),
    firstCreated: Math.min(...ps.map((p) => since(p.created))),
    created: max(ps.map((p) => since(p.created))),
    scheduled: max(ps.map((p) => since(p.scheduled))),
    running: max(ps.map((p) => since(p.running))),
    ready: max(ps.map((p) => since(p.ready))),
    startToReady: ps.filter((p) => p.running !== undefined && p.ready !== undefined).map((p) => p.ready! - p.running!),
  };
  const oldImage = d1.spec.template.spec.containers[0].image as string;
  const oldRevision = d1.metadata.annotations?.[REVISION];

  // 2. A rolling update: the app's code changes, so its pinned image does.
  repo.write(`apps/${name}/server.js`, server('v2', run));
  const t1 = performance.now(), wall1 = Date.now();
  const sha1 = repo.commit(`${name} v2`);
  const committed1 = performance.now() - t1;
  const d2 = await waitDeployment(serve, name, (d) => {
    const s = d.status ?? {};
    const rev = d.metadata.annotations?.[REVISION];
    return current(d) && rev && rev !== oldRevision && d.spec.template.spec.containers[0].image !== oldImage
      && s.updatedReplicas === REPLICAS && s.availableReplicas === REPLICAS && s.replicas === REPLICAS
      && !watch.of(name).some((p) => p.image === oldImage && p.removed === undefined);
  }, `${name} rolled out`);
  // No old pod left by the API's own word too (the watch could lag behind a poll).
  await until(async () => !(await podsOf(serve, name)).some((p) => p.spec.containers[0].image === oldImage), `old ${name} pods gone`);
  const rolloutTotal = performance.now() - t1;
  const since1 = (t: number | undefined) => (t ?? NaN) - t1;
  const all = watch.of(name);
  const fresh = all.filter((p) => p.image === d2.spec.template.spec.containers[0].image);
  const old = all.filter((p) => p.image === oldImage);
  const rollout: RolloutRun = {
    total: rolloutTotal,
    committed: committed1,
    ...(await syncTimes(serve, sha1, wall1)),
    firstCreated: Math.min(...fresh.map((p) => since1(p.created))),
    newReady: max(fresh.map((p) => since1(p.ready))),
    oldGone: max(old.map((p) => since1(p.removed))),
    waves: waves(fresh.flatMap((p) => (p.ready === undefined ? [] : [p.ready]))),
  };

  // 3. Removed from git; the next run starts once its pods (and their processes) are gone.
  repo.remove(`${name}.yaml`);
  repo.remove(`apps/${name}`);
  const t2 = performance.now();
  repo.commit(`remove ${name}`);
  await until(async () => (await podsOf(serve, name)).length === 0, `${name} pods gone`, 60_000);
  const remove = performance.now() - t2;
  await until(async () => (await serve.get('/apis/apps/v1/namespaces/default/replicasets')).body.items.every((r: any) => !r.metadata.name.startsWith(`${name}-`)), `${name} ReplicaSets gone`, 30_000);
  for (const [n] of [...watch.pods]) if (n.startsWith(`${name}-`)) watch.pods.delete(n);
  return { deploy, rollout, remove };
}

export async function workloads(runs = 5) {
  const repo = makeRepo({ 'README.md': 'convergit workload bench\n' });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-'));
  const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, ...ARGS]);
  const watch = new PodWatch(serve.url);
  const results: Awaited<ReturnType<typeof oneRun>>[] = [];
  try {
    await until(async () => (await serve.get('/status')).body.sync === 'Synced', 'first sync', 20_000);
    await until(async () => (await serve.get('/api/v1/nodes')).body.items?.length > 0, 'the node registered', 20_000);
    for (let r = 1; r <= runs; r++) results.push(await oneRun(repo, serve, watch, r));
  } catch (e) {
    throw new Error(`${(e as Error).message}\n--- serve output ---\n${serve.output().slice(-4000)}`);
  } finally {
    await watch.stop();
    await serve.shutdown();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const d = results.map((r) => r.deploy);
  const u = results.map((r) => r.rollout);
  const m = (f: (x: DeployRun) => number) => ms(median(d.map(f)));
  const mu = (f: (x: RolloutRun) => number) => ms(median(u.map(f)));
  const deployMedian = median(d.map((x) => x.total));
  const rolloutMedian = median(u.map((x) => x.total));
  const startToReady = d.flatMap((x) => x.startToReady);
  const probe = PROBE_PERIOD_S * 1000;

  console.log(`commit → ${REPLICAS}-replica Deployment Ready (git: image, readiness period ${PROBE_PERIOD_S} s), ${spread(d.map((x) => x.total))}`);
  console.log(`  git commit returned ${m((x) => x.committed)}, detected ${m((x) => x.detected)}, applied ${m((x) => x.applied)}, first pod created ${m((x) => x.firstCreated)}, all created ${m((x) => x.created)}, scheduled ${m((x) => x.scheduled)}, running ${m((x) => x.running)}, Ready ${m((x) => x.ready)} (medians, since the commit)`);
  console.log(`  one pod, running → Ready: median ${ms(median(startToReady))} (min ${ms(Math.min(...startToReady))}, max ${ms(Math.max(...startToReady))}) of ${startToReady.length}; about one readiness period (${ms(probe)}): ${(median(startToReady) / deployMedian * 100).toFixed(0)}% of the total`);
  const failed = d.reduce((n, x) => n + x.probeFailed, 0);
  console.log(`  ${failed}/${d.length * REPLICAS} pods had a readiness probe fail before Ready: the first goes out as the process starts, before it listens, so Ready waits for the next period`);
  console.log(`  vs Argo CD's default 3-minute poll alone: ${(180_000 / deployMedian).toFixed(0)}× sooner; vs Flux's 1-minute default: ${(60_000 / deployMedian).toFixed(0)}×`);
  console.log(`rolling update of ${REPLICAS} replicas (app code changed, maxSurge 25%, maxUnavailable 25%), ${spread(u.map((x) => x.total))}`);
  console.log(`  git commit returned ${mu((x) => x.committed)}, detected ${mu((x) => x.detected)}, applied ${mu((x) => x.applied)}, first new pod ${mu((x) => x.firstCreated)}, all new Ready ${mu((x) => x.newReady)}, last old pod removed ${mu((x) => x.oldGone)} (medians, since the commit); ${median(u.map((x) => x.waves))} waves of new pods becoming Ready`);
  console.log(`  ${(rolloutMedian / deployMedian).toFixed(1)}× a fresh deploy; ${(rolloutMedian / probe).toFixed(1)} readiness periods; ${ms(rolloutMedian / REPLICAS)} a replica`);
  console.log(`remove from git → all ${REPLICAS} pods gone, ${spread(results.map((r) => r.remove))}`);
}
