// `npm run bench`, pod start-up on each runtime: commit → 10 and 100 pods Ready (each pod's time from the commit:
// median and p99, and until the last), a container start's own cost (Runtime.start alone, median of 10), and the
// memory a pod takes: its containers' as kubectl top reports it (working set, or resident set of a process group),
// plus on podman the resident set of each container's conmon (its monitor, which lives as long as it). Not a test: nothing
// here asserts a time. BENCH_POD_COUNTS (default "10,100") and BENCH_RUNTIMES (default "process,podman") shrink it.
// Beside the wall times: the CPU serve (and on podman, its podman service) spent from the commit to the last Ready,
// and on podman the calls one pod's start makes (API requests; podman processes: none on that path).
// BENCH_POD_PROFILE=1 runs serve under --cpu-prof and prints where its CPU went from the commit to the last Ready;
// BENCH_POD_STEPS=0 leaves out the runs of the podman runtime alone.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { podmanMissing, removeLeftoverNetworks } from '../support/podman.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { profileSummary } from './profile-summary.ts';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';
import { defaultStartParallelism, PodmanRuntime } from '../../src/node/runtime/podman/podman.ts';
import type { RunningContainer, Runtime } from '../../src/node/runtime/runtime.ts';

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((p / 100) * xs.length) - 1)];
const s = (n: number) => `${(n / 1000).toFixed(2)} s`;
const rssOf = (pid: number) => Number(/^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
const KI = (q: string) => Number(/^(\d+)Ki$/.exec(q)?.[1] ?? NaN) * 1024;
/** CPU seconds (user + system) of a process so far, 0 when it is gone; with `children`, plus its children's: those it
 * has reaped and those alive (serve's: its helper process and the shells that make pods' namespaces, not the podman
 * service, counted apart; the podman service's: runc start, CNI plugins, iptables; not conmon's, which are
 * double-forked away, nor the runc create each conmon runs). */
const cpuOf = (pid: number, children = false, apart = new Set<number>()): number => {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    if (!children) return (Number(f[11]) + Number(f[12])) / 100;
    const alive = readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, 'utf8').split(' ').filter(Boolean).map(Number));
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100
      + alive.filter((c) => !apart.has(c)).reduce((sum, c) => sum + cpuOf(c, true, apart), 0);
  } catch {
    return 0;
  }
};
const servicePid = (dataDir: string) => {
  try {
    return Number(readFileSync(path.join(dataDir, 'podman', 'podman-service.pid'), 'utf8').split('\n')[0]) || 0;
  } catch {
    return 0;
  }
};

// The same YAML on both runtimes: a git: image (the host's programs on podman), no registry, Ready once running.
const deployment = (n: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: idle
spec:
  replicas: ${n}
  selector: { matchLabels: { app: idle } }
  template:
    metadata: { labels: { app: idle } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: idle
          image: git:apps/idle
          command: ["sh", "-c", "exec sleep 1000000"]
          resources: { requests: { cpu: 10m, memory: 8Mi } }
`;

async function commitToReady(runtime: 'process' | 'podman', n: number): Promise<void> {
  const repo = makeRepo({ 'apps/idle/README': 'an idle app\n', 'README.md': 'bench\n' });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-pods-'));
  const extra = runtime === 'podman' ? ['--cluster-cidr', '10.254.0.0/16'] : [];
  if (runtime === 'podman') removeLeftoverNetworks('10-254-');
  const prof = process.env.BENCH_POD_PROFILE === '1' ? path.join(dataDir, 'prof') : undefined;
  const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--runtime', runtime, '--node-pods', String(n + 10),
    '--node-cpu', '64', '--node-memory', '64Gi', '--metric-resolution', '1s', ...extra],
  { listenTimeoutMs: 120_000, nodeArgs: prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : [] }); // a busy machine
  let window: { fromUs: number; toUs: number } | undefined;
  try {
    await until(async () => (await serve.get('/status')).body.sync === 'Synced', 'first sync', 30_000);
    repo.write('idle.yaml', deployment(n));
    const svc = servicePid(dataDir);
    const apart = new Set([svc]);
    const cpu0 = [cpuOf(serve.pid), cpuOf(svc), cpuOf(serve.pid, true, apart), cpuOf(svc, true)];
    const t0 = performance.now(), fromUs = Number(process.hrtime.bigint() / 1000n);
    repo.commit('idle');
    // Each pod's Ready seen on a watch from the commit on (as `kubectl get -w`): a LIST polled every 50 ms cost serve
    // more CPU than the pods' start did, and was counted as serve's.
    const readyAt = await readyTimes(serve.url, n, t0, runtime);
    window = { fromUs, toUs: Number(process.hrtime.bigint() / 1000n) };
    const times = [...readyAt.values()];
    const cpu = [cpuOf(serve.pid) - cpu0[0], svc ? cpuOf(svc) - cpu0[1] : 0, cpuOf(serve.pid, true, apart) - cpu0[2], svc ? cpuOf(svc, true) - cpu0[3] : 0];
    const perPod = (x: number) => `${((x * 1000) / n).toFixed(0)} ms a pod`;
    const cpuText = `CPU to the last Ready: serve ${cpu[0].toFixed(1)} s (${perPod(cpu[0])}; with its children ${perPod(cpu[2])})`
      + `${svc ? `, podman service ${cpu[1].toFixed(1)} s (${perPod(cpu[1])}; with its children ${perPod(cpu[3])})` : ''}; `;
    // Said before the memory is measured: that takes metrics of every pod, which a busy machine may not give in time.
    console.log(`${runtime}: commit → ${n} pods Ready: median ${s(pct(times, 50))}, p99 ${s(pct(times, 99))}, last ${s(Math.max(...times))}; `
      + `${cpuText}load average ${loadavg()[0].toFixed(1)}`);
    const metrics = await until(async () => {
      const items = (await serve.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods')).body?.items as any[] | undefined;
      return items && items.length === n && items;
    }, 'every pod measured', 180_000);
    const working = metrics.reduce((sum, m) => sum + KI(m.containers[0].usage.memory), 0) / n;
    let monitor = '';
    if (runtime === 'podman') {
      const dir = path.join(dataDir, 'podman', 'conmon');
      const rss = readdirSync(dir).map((f) => { try { return rssOf(Number(readFileSync(path.join(dir, f), 'utf8'))); } catch { return 0; } }).filter((x) => x > 0);
      monitor = ` + conmon ${mib(rss.reduce((a, b) => a + b, 0) / Math.max(1, rss.length))} per container (and per infra container, where a pod has one)`;
    }
    console.log(`${runtime}, ${n} pods: memory per pod: ${mib(working)} (its container, as kubectl top reports it)${monitor}`);
  } catch (e) {
    // A failed run says why: serve's own last words (a crash, a refusal) are in its output.
    console.log(`${runtime}, ${n} pods: failed (${e}); serve's output ends:\n${serve.output().split('\n').slice(-40).join('\n')}`);
    throw e;
  } finally {
    await serve.shutdown();
    // The profile is written as serve exits: serve's own CPU from the commit to the last Ready, by function.
    if (prof && window && existsSync(prof)) {
      const own = existsSync(new URL('../../build/cli/main.js', import.meta.url)) ? 'build/' : 'src/';
      for (const f of readdirSync(prof)) {
        console.log(`${runtime}, ${n} pods: serve's profile (${f}), commit → last Ready, by self time:`);
        for (const l of profileSummary(path.join(prof, f), 25, { window })) console.log(`   ${l}`);
        console.log('  by total time, convergit\'s functions:');
        for (const l of profileSummary(path.join(prof, f), 40, { window, inclusive: true, only: own })) console.log(`   ${l}`);
      }
    }
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** When each of `n` pods of app=idle became Ready (ms after t0), from a watch of the namespace's pods. */
async function readyTimes(url: string, n: number, t0: number, runtime: string): Promise<Map<string, number>> {
  const readyAt = new Map<string, number>();
  const ctrl = new AbortController();
  const timer = setTimeout(() => ctrl.abort(), 600_000);
  try {
    const res = await fetch(`${url}/api/v1/namespaces/default/pods?labelSelector=app%3Didle&watch=true&resourceVersion=0`, { signal: ctrl.signal });
    let buf = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buf += Buffer.from(chunk).toString('utf8');
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const p = line.trim() ? JSON.parse(line).object : undefined;
        if (p?.metadata?.name && !readyAt.has(p.metadata.name) && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')) {
          readyAt.set(p.metadata.name, performance.now() - t0);
        }
      }
      if (readyAt.size >= n) return readyAt;
    }
    throw new Error(`${runtime}: the watch ended with ${readyAt.size} of ${n} pods Ready`);
  } catch (e) {
    if (ctrl.signal.aborted) throw new Error(`${runtime}: ${readyAt.size} of ${n} pods Ready after 10 minutes`);
    throw e;
  } finally {
    clearTimeout(timer);
    ctrl.abort();
  }
}

/** The API requests one pod's start makes on podman: its sandbox and one container (and their removal). */
async function podCalls(rt: PodmanRuntime, dir: string): Promise<void> {
  await rt.start({ id: 'default/warm/c', argv: ['true'], env: {}, cwd: '/', logFile: path.join(dir, 'warm.log') }).then((c) => c.exited);
  rt.api.calls.clear();
  const uid = crypto.randomUUID();
  const sandbox = await rt.createSandbox!({ id: 'default/calls', uid, podCIDR: '10.255.0.0/24', ip: '10.255.0.5', hostNetwork: false, hostPorts: [] });
  const c = await rt.start({ id: 'default/calls/c', argv: ['sleep', '1000000'], env: {}, cwd: '/', logFile: path.join(dir, 'calls.log'), sandbox, podUID: uid, restartCount: 0 });
  const started = [...rt.api.calls].filter(([k]) => k !== 'GET events');
  rt.api.calls.clear();
  await c.stop(0);
  await rt.removeSandbox!(sandbox);
  const stopped = [...rt.api.calls].filter(([k]) => k !== 'GET events' && k !== 'GET containers');
  const list = (xs: [string, number][]) => `${xs.reduce((a, [, n]) => a + n, 0)} (${xs.map(([k, n]) => `${k} ×${n}`).join(', ')})`;
  console.log(`podman: calls per pod of one container: start ${list(started)}, stop and removal ${list(stopped)}; no podman process on either path`);
}

/**
 * `n` pods started at once by the podman runtime alone (no serve): where a pod's start goes, step by step (the sandbox:
 * its network namespace and `POST pods/create`; the container's create; its start: conmon and runc, and for a pod
 * with an infra container, that and its CNI network first), each pod's time from the first call to its
 * container started, and the CPU of the podman service. Once with every start let through at once (as before the
 * bound), once with the runtime's bound.
 */
async function runtimeSteps(dir: string, n: number, parallelism: number): Promise<void> {
  const rt = await PodmanRuntime.create({ stateDir: path.join(dir, `steps-${parallelism}`, 'podman'), startParallelism: parallelism });
  const cidr = '10.255.1.0/24';
  const started: [RunningContainer, string][] = [];
  try {
    // The bridge, the service and the infra image first: what a node has done before its first pods.
    const warm = await rt.createSandbox!({ id: 'default/warm', uid: crypto.randomUUID(), podCIDR: cidr, ip: '10.255.1.2', hostNetwork: false, hostPorts: [] });
    started.push([await rt.start({ id: 'default/warm/c', argv: ['sleep', '1000000'], env: {}, cwd: '/', logFile: path.join(dir, 'warm.log'), sandbox: warm, podUID: 'w', restartCount: 0 }), warm]);
    rt.api.timings = new Map();
    const svc = servicePid(path.join(dir, `steps-${parallelism}`));
    const cpu0 = [cpuOf(svc), cpuOf(svc, true), cpuOf(process.pid, true, new Set([svc])) - cpuOf(process.pid)];
    const t0 = performance.now();
    const sandbox: number[] = [], start: number[] = [], total: number[] = [];
    await Promise.all(Array.from({ length: n }, async (_, i) => {
      const uid = crypto.randomUUID();
      const a = performance.now();
      const sb = await rt.createSandbox!({ id: `default/p${i}`, uid, podCIDR: cidr, ip: `10.255.1.${10 + i}`, hostNetwork: false, hostPorts: [] });
      const b = performance.now();
      const c = await rt.start({ id: `default/p${i}/c`, argv: ['sleep', '1000000'], env: {}, cwd: '/', logFile: path.join(dir, `p${i}.log`), sandbox: sb, podUID: uid, restartCount: 0 });
      const d = performance.now();
      started.push([c, sb]);
      sandbox.push(b - a);
      start.push(d - b);
      total.push(d - t0);
    }));
    const ms = (xs: number[] | undefined) => xs?.length ? `median ${s(pct(xs, 50))} p99 ${s(pct(xs, 99))}` : 'none';
    const t = rt.api.timings;
    console.log(`podman runtime alone, ${n} pods at once, ${parallelism} starts at a time: pod started (from t0) ${ms(total)}; `
      + `steps: sandbox ${ms(sandbox)}; Runtime.start ${ms(start)}, of which container create ${ms(t.get('POST containers/create'))}, `
      + `container start ${ms(t.get('POST containers/start'))}, the rest waiting for a start slot; `
      + `podman service CPU ${(cpuOf(svc) - cpu0[0]).toFixed(1)} s, with its children ${(cpuOf(svc, true) - cpu0[1]).toFixed(1)} s; `
      + `the runtime's children (namespaces) ${(cpuOf(process.pid, true, new Set([svc])) - cpuOf(process.pid) - cpu0[2]).toFixed(1)} s; load average ${loadavg()[0].toFixed(1)}`);
  } finally {
    rt.api.timings = undefined;
    await Promise.all(started.map(async ([c, sb]) => { await c.stop(0); await rt.removeSandbox!(sb); }));
    await rt.removeAll();
    await rt.close();
  }
}

/** Runtime.start alone, for a container that runs on: median of `runs`. */
async function startCost(name: string, runtime: Runtime, dir: string, runs = 10): Promise<void> {
  const started: RunningContainer[] = [];
  const times: number[] = [];
  try {
    for (let i = 0; i < runs; i++) {
      const t0 = performance.now();
      started.push(await runtime.start({ id: `default/bench/c${i}`, argv: ['sleep', '1000000'], env: {}, cwd: '/', logFile: path.join(dir, `${i}.log`) }));
      times.push(performance.now() - t0);
    }
  } finally {
    await Promise.all(started.map((c) => c.stop(0)));
  }
  console.log(`${name}: a container start's own cost (Runtime.start), median of ${runs}: ${(pct(times, 50)).toFixed(1)} ms (max ${Math.max(...times).toFixed(1)} ms)`);
}

export async function podStartup(): Promise<void> {
  const counts = (process.env.BENCH_POD_COUNTS ?? '10,100').split(',').map(Number).filter((n) => n > 0);
  const missing = podmanMissing();
  if (missing) console.log(`pod start-up on podman: skipped, ${missing}`);
  const runtimes = (process.env.BENCH_RUNTIMES ?? 'process,podman').split(',').filter((r) => r === 'process' || (r === 'podman' && !missing)) as ('process' | 'podman')[];
  const dir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-start-'));
  if (runtimes.includes('podman')) removeLeftoverNetworks('10-255-'); // what a killed run of these left (10.253, their old range, is e2e/podman-restart's)
  try {
    for (const runtime of runtimes) {
      if (runtime === 'process') await startCost('process', new ProcessRuntime(), dir);
      else {
        const rt = await PodmanRuntime.create({ stateDir: path.join(dir, 'podman') });
        try {
          await podCalls(rt, dir);
          await startCost('podman', rt, dir);
        } finally {
          await rt.close();
        }
        const most = Math.max(...counts);
        if (process.env.BENCH_POD_STEPS !== '0') for (const p of [most, defaultStartParallelism()]) await runtimeSteps(dir, most, p);
      }
      for (const n of counts) await commitToReady(runtime, n);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await podStartup();
