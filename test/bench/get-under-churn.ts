// `npm run bench`, churn part (issues 13 and 14): single-object GET latency over real HTTP while a Deployment of
// real processes (default 1,000 pods over 10 nodes, process runtime) is created from 0 and then deleted. Each phase
// prints its p99 against the target (p99 ≤ 100 ms; Kubernetes' SLO for a single-object GET is p99 ≤ 1 s), serve's
// CPU time in it, and the top self-time functions of serve for the worse phase (its part of serve's CPU profile).
// CHURN_PODS and CHURN_NODES shrink it; CHURN_HOLLOW=1 runs the same on hollow nodes; CHURN_PROFILE_OUT=<file> keeps serve's profile;
// NOPROF=1 runs serve without --cpu-prof (the figures are then serve's own, without the profiler's cost);
// CHURN_NODE_ARGS adds node flags to serve's (V8's heap flags, say). Asserts nothing.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { ownFolderOf, profileSummary, stallSummary } from './profile-summary.ts';

const TARGET_MS = 100;

const deployment = (replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: churn
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: churn }
  template:
    metadata:
      labels: { app: churn }
    spec:
      terminationGracePeriodSeconds: 5
      containers:
        - name: main
          image: git:apps/idle
          command: ["sleep", "1000000"]
          resources: { requests: { cpu: 1m, memory: 1Mi } }
`;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((xs.length * p) / 100) - 1)] ?? NaN;
/** CLOCK_MONOTONIC in µs: the clock of a V8 profile's sample times, shared by every process on Linux. */
const monoUs = () => Number(process.hrtime.bigint() / 1000n);
/** A process's user + system CPU so far, in ms (/proc/<pid>/stat fields 14 and 15, in clock ticks of 10 ms). */
const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10;
};
const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');

interface Phase { name: string; gets: number[]; ms: number; cpuMs: number; fromUs: number; toUs: number; loadAtEnd: string; writes: number }

export async function getUnderChurn(pods = Number(process.env.CHURN_PODS ?? 1000), nodes = Number(process.env.CHURN_NODES ?? 10)) {
  const hollow = process.env.CHURN_HOLLOW === '1';
  const repo = makeRepo({ 'README.md': 'churn bench\n', 'apps/idle/README': 'an idle app\n' });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-churn-'));
  const perNode = Math.ceil(pods / nodes) + 10;
  // serve's event-loop stalls (test/bench/loop-stalls.mjs): less sensitive to a shared machine's load than GETs.
  const stallsFile = path.join(dataDir, 'loop-stalls.json');
  const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, ...(hollow ? ['--hollow'] : []), '--nodes', String(nodes), '--node-name', 'churn',
    '--node-pods', String(perNode), '--node-cpu', '64', '--node-memory', '64Gi', ...(process.env.CHURN_SERVE_ARGS?.split(' ').filter(Boolean) ?? [])], {
    listenTimeoutMs: 120_000,
    nodeArgs: [...(process.env.NOPROF ? [] : ['--cpu-prof', `--cpu-prof-dir=${path.join(dataDir, 'prof')}`]), '--import', new URL('./loop-stalls.mjs', import.meta.url).pathname,
      ...(process.env.CHURN_NODE_ARGS?.split(' ').filter(Boolean) ?? [])],
    env: { ...process.env, LOOP_STALLS_OUT: stallsFile },
  });
  const phases: Phase[] = [];
  try {
    await until(async () => (await serve.get('/status')).body.sync === 'Synced', 'first sync', 120_000);
    let current: number[] | undefined;
    let stop = false;
    // One GET at a time, back to back, as a user's kubectl or a dashboard polling one object would make them.
    const getter = (async () => {
      while (!stop) {
        const g0 = performance.now();
        await fetch(`${serve.url}/api/v1/nodes/churn-1`).then((r) => r.arrayBuffer()).catch(() => {});
        current?.push(performance.now() - g0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    // Progress is polled cheaply and slowly (limit=1, every 250 ms): a LIST of 1,000 pods every 25 ms would be
    // the bench loading the server, not the churn.
    const poll = async <T>(probe: () => Promise<T | false>, what: string) => until(async () => {
      const v = await probe();
      if (!v) await new Promise((r) => setTimeout(r, 250));
      return v;
    }, what, 900_000);
    const podsLeft = async () => {
      const b = (await serve.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dchurn&limit=1')).body;
      return b?.items ? b.items.length + (b.metadata?.remainingItemCount ?? 0) : -1;
    };
    // The store's resourceVersion counts its writes: what a phase wrote, whatever the machine's load.
    const storeVersion = async () => Number((await serve.get('/api/v1/namespaces/default/pods?limit=1')).body?.metadata?.resourceVersion ?? NaN);
    const measure = async (name: string, change: () => void, done: () => Promise<boolean>, what: string) => {
      const gets: number[] = [];
      const v0 = await storeVersion();
      const c0 = cpuMs(serve.pid);
      const fromUs = monoUs();
      const t0 = performance.now();
      current = gets;
      change();
      await poll(async () => (await done()) || false, what);
      current = undefined;
      phases.push({ name, gets, ms: performance.now() - t0, cpuMs: cpuMs(serve.pid) - c0, fromUs, toUs: monoUs(), loadAtEnd: load(), writes: (await storeVersion()) - v0 });
    };
    await measure(`creation 0 → ${pods} available`, () => { repo.write('churn.yaml', deployment(pods)); repo.commit(`${pods} pods`); },
      async () => (await serve.get('/apis/apps/v1/namespaces/default/deployments/churn')).body?.status?.availableReplicas === pods, `${pods} pods available`);
    // Issue 14: a LIST of all pods ≤ 1 s (while nothing churns), as JSON and as kubectl's table.
    const listMs: number[] = [];
    for (const accept of ['application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io']) {
      const l0 = performance.now();
      const n = await fetch(`${serve.url}/api/v1/pods`, { headers: { accept } }).then((r) => r.json() as Promise<{ items?: unknown[]; rows?: unknown[] }>);
      listMs.push(performance.now() - l0);
      if ((n.items ?? n.rows)?.length !== pods) throw new Error(`LIST of all pods gave ${(n.items ?? n.rows)?.length} of ${pods}`);
    }
    await measure(`deletion ${pods} → no pod left`, () => { repo.remove('churn.yaml'); repo.commit('delete it'); },
      async () => (await podsLeft()) === 0, 'every pod gone');
    stop = true;
    await getter;
    console.log(`\nsingle GET while a ${pods}-pod Deployment churns (${nodes} ${hollow ? 'hollow nodes' : 'nodes, real processes'}; Kubernetes' SLO p99 ≤ 1 s)`);
    const worstList = Math.max(...listMs);
    console.log(`  LIST of all ${pods} pods (target ≤ 1000 ms): ${worstList.toFixed(0)} ms: ${worstList <= 1000 ? 'met' : 'NOT met'} (JSON ${listMs[0].toFixed(0)} ms, table ${listMs[1].toFixed(0)} ms)`);
    for (const p of phases) {
      const p99 = pct(p.gets, 99);
      console.log(`  GET p99 during ${p.name} (target ≤ ${TARGET_MS} ms): ${p99.toFixed(0)} ms: ${p99 <= TARGET_MS ? 'met' : 'NOT met'}`);
      console.log(`    p50 ${pct(p.gets, 50).toFixed(0)} ms, max ${Math.max(...p.gets).toFixed(0)} ms over ${p.gets.length} GETs; took ${(p.ms / 1000).toFixed(1)} s wall, serve CPU ${(p.cpuMs / 1000).toFixed(1)} s (${(p.cpuMs / pods).toFixed(1)} ms a pod); load average after: ${p.loadAtEnd} (2 cores, shared)`);
      console.log(`    store writes: ${p.writes} (${(p.writes / pods).toFixed(1)} a pod)`);
    }
  } finally {
    await serve.shutdown();
    const prof = existsSync(path.join(dataDir, 'prof')) ? readdirSync(path.join(dataDir, 'prof')).filter((f) => f.endsWith('.cpuprofile')) : [];
    const worse = [...phases].sort((a, b) => pct(b.gets, 99) - pct(a.gets, 99))[0];
    if (prof.length && process.env.CHURN_PROFILE_OUT) (await import('node:fs')).copyFileSync(path.join(dataDir, 'prof', prof[0]), process.env.CHURN_PROFILE_OUT);
    if (process.env.CHURN_PROFILE_OUT) (await import('node:fs')).writeFileSync(`${process.env.CHURN_PROFILE_OUT}.phases.json`, JSON.stringify(phases.map(({ name, fromUs, toUs }) => ({ name, fromUs, toUs }))));
    if (process.env.CHURN_PROFILE_OUT && existsSync(stallsFile)) (await import('node:fs')).copyFileSync(stallsFile, `${process.env.CHURN_PROFILE_OUT}.stalls.json`);
    // [end µs, wall ms, main-thread CPU ms, ms waiting for a core] of each stall of 20 ms or more (loop-stalls.mjs).
    const stalls: [number, number, number, number?][] = (() => { try { return JSON.parse(readFileSync(stallsFile, 'utf8')); } catch { return []; } })();
    for (const p of phases) {
      const mine = stalls.filter(([end]) => end >= p.fromUs && end <= p.toUs);
      const over = (i: 1 | 2, ms: number) => mine.filter((s) => s[i] >= ms).length;
      const sum = (i: 1 | 2 | 3, of = mine) => of.reduce((a, s) => a + (s[i] ?? 0), 0);
      console.log(`  event-loop stalls during ${p.name}: longest ${Math.max(0, ...mine.map((s) => s[1]))} ms wall, ${Math.max(0, ...mine.map((s) => s[2]))} ms of CPU; `
        + `${over(1, 100)} of 100 ms or more wall (${over(2, 100)} by CPU), ${over(1, 50)} of 50 ms or more (${over(2, 50)} by CPU), ${over(2, 20)} of 20 ms or more CPU`);
      // Where the wall time of the long stalls went: serve's own work, waiting for a core (the machine's load), or
      // blocked (a synchronous syscall, a page fault).
      const long = mine.filter((s) => s[1] >= 50);
      console.log(`    in the ${long.length} of 50 ms or more: ${sum(1, long)} ms wall = ${sum(2, long)} ms CPU + ${sum(3, long)} ms waiting for a core + ${sum(1, long) - sum(2, long) - sum(3, long)} ms blocked`);
      // The longest stalls (wall: what a GET waits), with what ran in each (from the profile).
      const worst = [...mine].sort((a, b) => b[1] - a[1]).slice(0, 6);
      if (prof.length && worst.length) {
        const lines = stallSummary(path.join(dataDir, 'prof', prof[0]), worst.map(([end, ms]) => [end, ms]));
        console.log(lines.map((l, i) => `    ${String(worst[i][2]).padStart(4)} ms CPU, ${String(worst[i][3] ?? '?').padStart(4)} ms waiting, ${l}`).join('\n'));
      }
    }
    if (prof.length && worse) {
      console.log(`  top self time in serve during ${worse.name} (the worse p99):`);
      console.log(profileSummary(path.join(dataDir, 'prof', prof[0]), 15, { window: { fromUs: worse.fromUs, toUs: worse.toUs } }).map((l) => `    ${l}`).join('\n'));
    }
    // Where each phase's CPU went among the project's own functions (time under each, callees included).
    const own = prof.length ? ownFolderOf(path.join(dataDir, 'prof', prof[0])) : 'src/';
    for (const p of prof.length ? phases : []) {
      console.log(`  serve's own functions by total time during ${p.name} (window ${p.fromUs}–${p.toUs} µs):`);
      console.log(profileSummary(path.join(dataDir, 'prof', prof[0]), 15, { inclusive: true, only: own, window: { fromUs: p.fromUs, toUs: p.toUs } }).map((l) => `    ${l}`).join('\n'));
    }
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await getUnderChurn();
