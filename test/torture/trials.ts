// The crash torture: kill -9 of `serve` at random instants during rollouts, scale-ups and deletions, then a new
// serve. Each trial checks that the state loads, no pod is listed twice, no process runs twice, no process is left
// that no pod owns, and pods that were running and healthy were not restarted; and measures how long the new serve
// takes to converge. Used by `npm run torture` (test/torture/run.ts) and, short, by torture.test.ts.
//
// Convergence is measured two ways. `convergence` is raw: new serve up → desired state. With a change in flight it
// includes the change's own remaining work (a new pod still has to start and pass its readiness probe), which the
// same change needs without any crash. So some trials are controls: the same kind of change, no kill, timed from
// the commit to the desired state. `restartCost` is raw minus what the change still had left at the kill by the
// controls' median (never below 0): the time the restart itself added. TORTURE_TRACE=<ms> prints, for each crash
// trial slower than that, what the API showed after the restart and the new serve's log.
import { readdirSync, readFileSync, readlinkSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const SERVER = `require('node:http').createServer((q, s) => s.end(process.env.VERSION + '\\n')).listen(8080, process.env.POD_IP);
process.on('SIGTERM', () => process.exit(0));
`;
const deployment = (version: number, replicas: number) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: ${replicas}
  selector:
    matchLabels: { app: echo }
  template:
    metadata:
      labels: { app: echo }
    spec:
      terminationGracePeriodSeconds: 3
      containers:
        - name: echo
          image: git:apps/echo
          command: ["node", "server.js"]
          env:
            - { name: VERSION, value: "v${version}" }
          ports:
            - containerPort: 8080
          readinessProbe:
            tcpSocket: { port: 8080 }
            periodSeconds: 1
`;
const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: echo
spec:
  selector: { app: echo }
  ports:
    - port: 80
      targetPort: 8080
`;

export interface TortureResult {
  trials: number;
  duplicatePods: number;
  duplicateProcesses: number;
  orphans: number;
  restartedHealthy: number;
  /** Trials whose new serve applied a revision (or failed a sync) after it was up: no commit came meanwhile, so its
   * first pass, before the engine starts, should have been the only one to apply. */
  lateSyncs: number;
  /** ms from the new serve being up to the desired state. */
  convergence: number[];
  /** ms from the kill to the new serve being up (its modules loaded, the store read, pods re-adopted). */
  startup: number[];
  /** ms from the kill to the desired state: startup plus convergence, whatever serve does before or after it is up. */
  killToDesired: number[];
  /** Per crash trial: raw convergence minus the work its change still had left at the kill, by the controls. */
  restartCost: number[];
  /** The new serves' start by step (serve's `started in` line): wall and CPU ms, one entry per trial. */
  startSteps: Record<string, { wall: number[]; cpu: number[] }>;
  /** Control trials (no kill): ms from the commit to the desired state, by kind of change. */
  controls: Record<string, number[]>;
  problems: string[];
}

const pidOf = (p: any) => Number(String(p.status?.containerStatuses?.[0]?.containerID ?? '').replace('process://', ''));
const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');

/** Live processes whose working folder is inside the data folder (the containers' image folders), by pod uid. */
function containerProcesses(dataDir: string): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const pid of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (!readlinkSync(`/proc/${pid}/cwd`).startsWith(dataDir + path.sep)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (['Z', 'X'].includes(stat.slice(stat.lastIndexOf(')') + 2)[0])) continue;
      const uid = readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').find((e) => e.startsWith('CONVERGIT_POD_UID='))?.slice(18) ?? '?';
      out.set(uid, [...(out.get(uid) ?? []), Number(pid)]);
    } catch { /* gone meanwhile, or not ours to read */ }
  }
  return out;
}

type Action = 'rollout' | 'scale' | 'delete' | 'none';

/** `actions`: what each trial may do before the kill, picked at random (default: rollouts, scale-ups, deletions; 'none' changes nothing). */
/** `controls: false` skips the control trials (restartCost is then the raw figure). */
export async function runTorture(opts: { trials: number; log?: (line: string) => void; actions?: Action[]; controls?: boolean }): Promise<TortureResult> {
  const log = opts.log ?? (() => {});
  const repo = makeRepo({ 'echo.yaml': deployment(0, 3), 'service.yaml': SERVICE, 'apps/echo/server.js': SERVER });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-torture-'));
  const args = ['--repo', repo.dir, '--data-dir', dataDir, '--restart-backoff', '200ms', '--retry-base', '200ms'];
  const r: TortureResult = { trials: 0, duplicatePods: 0, duplicateProcesses: 0, orphans: 0, restartedHealthy: 0, lateSyncs: 0, convergence: [], startup: [], killToDesired: [], restartCost: [], startSteps: {}, controls: {}, problems: [] };
  // Crash trials by kind of change: how long after the commit the kill came, and the raw convergence.
  const crashes: { kind: string; killAfter: number; raw: number }[] = [];
  let serve: ServeProcess | undefined;
  let version = 0, replicas = 3, present = true;
  const pods = async (s: ServeProcess) => (await s.get('/api/v1/namespaces/default/pods?labelSelector=app%3Decho')).body.items as any[];
  // TORTURE_TRACE: what the API shows after a restart, one line per change.
  let timeline: string[] = [], seen = '', since = 0;
  const note = (d: any, ps: any[]) => {
    const st = d?.status ?? {};
    const pod = (p: any) => `${p.metadata.name.slice(-5)}:${p.spec.containers[0].env[0].value}:${Object.keys(p.status?.containerStatuses?.[0]?.state ?? { none: 1 })[0]}${ready(p) ? '+' : '-'}${p.metadata.deletionTimestamp ? 'D' : ''}`;
    const line = `generation ${d?.metadata?.generation}/${st.observedGeneration} replicas ${st.replicas} updated ${st.updatedReplicas} available ${st.availableReplicas} | ${ps.map(pod).join(' ')}`;
    if (line !== seen) timeline.push(`+${Date.now() - since} ms ${line}`);
    seen = line;
  };
  const converged = async (s: ServeProcess) => {
    const ps = await pods(s);
    if (process.env.TORTURE_TRACE && since) note(present ? (await s.get('/apis/apps/v1/namespaces/default/deployments/echo')).body : undefined, ps);
    if (!present) return ps.length === 0 && ps;
    const d = (await s.get('/apis/apps/v1/namespaces/default/deployments/echo')).body;
    const st = d.status ?? {};
    const ok = st.observedGeneration === d.metadata?.generation && st.updatedReplicas === replicas && st.availableReplicas === replicas
      && st.replicas === replicas && ps.length === replicas && ps.every((p) => ready(p) && !p.metadata.deletionTimestamp)
      && ps.every((p) => p.spec.containers[0].env[0].value === `v${version}`);
    return ok && ps;
  };
  try {
    serve = await startServe(args, { listenTimeoutMs: 120_000 });
    await until(() => converged(serve!), 'the first rollout', 60_000);
    for (let t = 1; t <= opts.trials; t++) {
      // A change: a rollout, a scale-up (or back down), or deleting (then bringing back) the Deployment.
      const actions = opts.actions ?? ['rollout', 'rollout', 'scale', 'delete'];
      const action: 'recreate' | Action = !present ? 'recreate' : actions[Math.floor(Math.random() * actions.length)];
      if (action === 'rollout') version++;
      if (action === 'scale') replicas = replicas === 3 ? 5 : 3;
      present = action !== 'delete';
      // The kind of change, for its no-crash time: a rollout of 5 takes longer than of 3, a scale-up than a scale-down.
      const kind = action === 'scale' ? `scale to ${replicas}` : action === 'rollout' || action === 'recreate' ? `${action} of ${replicas}` : action;
      // A control (no kill) for a kind not timed yet, and one trial in four besides, spread over the run.
      const control = opts.controls !== false && action !== 'none' && ((r.controls[kind]?.length ?? 0) === 0 || Math.random() < 0.25);
      const commitAt = Date.now();
      if (action !== 'none') {
        if (present) repo.write('echo.yaml', deployment(version, replicas));
        else repo.remove('echo.yaml');
        repo.commit(`trial ${t}: ${action}`);
      }
      if (control) {
        await until(() => converged(serve!), `control ${t} (${kind}) to converge`, 60_000);
        (r.controls[kind] ??= []).push(Date.now() - commitAt);
        log(`control ${t}: ${kind}, no kill, converged ${Date.now() - commitAt} ms after the commit`);
        t--;
        continue;
      }
      // Healthy pods as the kill finds them: running, ready, not leaving.
      await new Promise((res) => setTimeout(res, Math.random() * 1500));
      const healthy = (await pods(serve)).filter((p) => ready(p) && !p.metadata.deletionTimestamp);
      const oldOut = serve.output();
      await serve.stop('SIGKILL');
      const killedAt = Date.now();
      serve = undefined;
      serve = await startServe(args, { listenTimeoutMs: 120_000 }); // also: the state loaded (a loaded machine takes long to load the modules)
      const upAt = since = Date.now();
      timeline = [];
      seen = '';
      r.startup.push(upAt - killedAt);
      const problemsBefore = r.problems.length;
      const after = await until(() => converged(serve!), `trial ${t} (${action}) to converge`, 60_000).catch(async (e) => {
        // What the trial saw, before its data folder is removed: a torture that stops must say why.
        log(`trial ${t}: ${kind}, killed -9 ${killedAt - commitAt} ms after the commit: ${(e as Error).message}`);
        log(`  the pods now: ${JSON.stringify((await pods(serve!).catch(() => [])).map((p) => ({ name: p.metadata.name, node: p.spec.nodeName, deleting: p.metadata.deletionTimestamp, phase: p.status?.phase, containers: p.status?.containerStatuses })))}`);
        log(`  the API after the restart:\n    ${timeline.join('\n    ')}`);
        log(`  the killed serve's last lines:\n${oldOut.trimEnd().split('\n').slice(-15).map((l) => `    ${l}`).join('\n')}`);
        log(`  the new serve's log:\n${serve!.output().trimEnd().split('\n').map((l) => `    ${l}`).join('\n')}`);
        throw e;
      });
      const raw = Date.now() - upAt;
      r.convergence.push(raw);
      r.killToDesired.push(Date.now() - killedAt);
      crashes.push({ kind, killAfter: killedAt - commitAt, raw });
      r.trials++;
      noteStartSteps(r.startSteps, serve.output());
      // Checks.
      const names = after.map((p) => p.metadata.name);
      const dupPods = names.length - new Set(names).size + (after.length - new Set(after.map((p) => p.metadata.uid)).size);
      const procs = containerProcesses(dataDir);
      const uids = new Set(after.map((p) => p.metadata.uid));
      let dupProcs = 0, orphans = 0, restarted = 0;
      for (const [uid, pids] of procs) {
        if (!uids.has(uid)) { orphans += pids.length; r.problems.push(`trial ${t}: orphan process(es) ${pids} of pod ${uid}`); } else if (pids.length > 1) { dupProcs += pids.length - 1; r.problems.push(`trial ${t}: pod ${uid} runs ${pids}`); }
      }
      for (const h of healthy) {
        const now = after.find((p) => p.metadata.uid === h.metadata.uid);
        if (!now) continue; // it was meant to go (rollout, scale-down, deletion)
        const [c0, c1] = [h.status.containerStatuses[0], now.status.containerStatuses[0]];
        if (c1.restartCount !== c0.restartCount || pidOf(now) !== pidOf(h)) {
          restarted++;
          r.problems.push(`trial ${t}: healthy pod ${h.metadata.name} restarted (count ${c0.restartCount} → ${c1.restartCount}, pid ${pidOf(h)} → ${pidOf(now)})`);
        }
      }
      // Applied (a line with its duration) or failed after 'serving': the first pass did not settle the revision.
      const late = (serve.output().split(/convergit \S+ serving/)[1] ?? '').split('\n').filter((l) => /Synced: applied revision \w+ \(\d+ ms\)|Failed|sync:/.test(l));
      if (late.length) {
        r.lateSyncs++;
        r.problems.push(`trial ${t}: the new serve synced again after it was up: ${late.join(' | ')}`);
      }
      r.duplicatePods += dupPods;
      r.duplicateProcesses += dupProcs;
      r.orphans += orphans;
      r.restartedHealthy += restarted;
      log(`trial ${t}: ${kind}, killed -9 ${killedAt - commitAt} ms after the commit, up ${upAt - killedAt} ms later, converged in ${raw} ms; ${dupPods} dup pods, ${dupProcs} dup processes, ${orphans} orphans, ${restarted} restarted healthy`);
      for (const p of r.problems.slice(problemsBefore)) log(`  ${p}`);
      if (process.env.TORTURE_TRACE && raw > Number(process.env.TORTURE_TRACE)) {
        log(`  the API after the restart (new serve up at ${new Date(upAt).toISOString().slice(11, 23)}):\n    ${timeline.join('\n    ')}`);
        log(`  the killed serve's last lines:\n${oldOut.trimEnd().split('\n').slice(-8).map((l) => `    ${l}`).join('\n')}`);
        log(`  the new serve's log:\n${serve.output().trimEnd().split('\n').map((l) => `    ${l}`).join('\n')}`);
      }
    }
    // What the restart added: the raw figure less what the change still had left at the kill without any crash.
    for (const c of crashes) {
      const noCrash = c.kind === 'none' ? 0 : percentile(r.controls[c.kind] ?? [], 50);
      r.restartCost.push(Math.max(0, c.raw - Math.max(0, (Number.isNaN(noCrash) ? 0 : noCrash) - c.killAfter)));
    }
  } finally {
    await serve?.shutdown().catch(() => {});
    const { execFileSync } = await import('node:child_process');
    try { execFileSync(process.execPath, [new URL('../../bin/convergit.js', import.meta.url).pathname, 'stop', '--data-dir', dataDir]); } catch { /* already stopped */ }
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return r;
}

/** Adds the steps of serve's `started in … ms (CPU … ms); wall/CPU ms by step: modules 900/400, …` line (start-timings.ts). */
function noteStartSteps(steps: TortureResult['startSteps'], output: string) {
  const m = output.match(/started in (\d+) ms \(CPU (\d+) ms\); wall\/CPU ms by step: (.*)/);
  if (!m) return;
  const add = (step: string, wall: number, cpu: number) => {
    const s = (steps[step] ??= { wall: [], cpu: [] });
    s.wall.push(wall);
    s.cpu.push(cpu);
  };
  add('total', Number(m[1]), Number(m[2]));
  for (const part of m[3].split(', ')) {
    const [, step, wall, cpu] = part.match(/^(.*) (\d+)\/(\d+)$/) ?? [];
    if (step) add(step, Number(wall), Number(cpu));
  }
}

export const percentile = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** The figures, as `npm run torture` and the bench print them. */
export function summary(r: TortureResult): string[] {
  const f = (xs: number[]) => `median ${percentile(xs, 50)} ms, p99 ${percentile(xs, 99)} ms, max ${Math.max(...xs)} ms`;
  const controls = Object.entries(r.controls).map(([k, xs]) => `${k} ${percentile(xs, 50)} ms (${xs.length})`).join(', ');
  return [
    `${r.trials} trials: ${r.duplicatePods} duplicate pods, ${r.duplicateProcesses} duplicate processes, ${r.orphans} orphans, ${r.restartedHealthy} restarted healthy pods, ${r.lateSyncs} late syncs`,
    `the restart's own cost (new serve up → desired state, less what the change still needed without a crash): ${f(r.restartCost)}   (target p99 ≤ 2 s)`,
    `new serve up → desired state, raw (includes the change's own remaining work): ${f(r.convergence)}`,
    `the same changes without a crash, commit → desired state (median, runs): ${controls || 'none'}`,
    `kill → new serve up (modules, store, re-adoption): ${f(r.startup)}`,
    `  the new serve's start by step, median wall / CPU ms: ${Object.entries(r.startSteps).map(([k, s]) => `${k} ${percentile(s.wall, 50)}/${percentile(s.cpu, 50)}`).join(', ') || 'not logged'}`,
    `kill → desired state (the two above together): ${f(r.killToDesired)}`,
  ];
}

