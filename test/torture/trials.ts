// The crash torture: kill -9 of `serve` at random instants during rollouts, scale-ups and deletions, then a new
// serve. Each trial checks that the state loads, no pod is listed twice, no process runs twice, no process is left
// that no pod owns, and pods that were running and healthy were not restarted; and measures how long the new serve
// takes to converge. Used by `npm run torture` (test/torture/run.ts) and, short, by torture.test.ts.
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
  /** ms from the new serve being up to the desired state. */
  convergence: number[];
  /** ms from the kill to the new serve being up (its modules loaded, the store read, pods re-adopted). */
  startup: number[];
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
export async function runTorture(opts: { trials: number; log?: (line: string) => void; actions?: Action[] }): Promise<TortureResult> {
  const log = opts.log ?? (() => {});
  const repo = makeRepo({ 'echo.yaml': deployment(0, 3), 'service.yaml': SERVICE, 'apps/echo/server.js': SERVER });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-torture-'));
  const args = ['--repo', repo.dir, '--data-dir', dataDir, '--restart-backoff', '200ms', '--retry-base', '200ms'];
  const r: TortureResult = { trials: 0, duplicatePods: 0, duplicateProcesses: 0, orphans: 0, restartedHealthy: 0, convergence: [], startup: [], problems: [] };
  let serve: ServeProcess | undefined;
  let version = 0, replicas = 3, present = true;
  const pods = async (s: ServeProcess) => (await s.get('/api/v1/namespaces/default/pods?labelSelector=app%3Decho')).body.items as any[];
  const converged = async (s: ServeProcess) => {
    const ps = await pods(s);
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
      if (action !== 'none') {
        if (present) repo.write('echo.yaml', deployment(version, replicas));
        else repo.remove('echo.yaml');
        repo.commit(`trial ${t}: ${action}`);
      }
      // Healthy pods as the kill finds them: running, ready, not leaving.
      await new Promise((res) => setTimeout(res, Math.random() * 1500));
      const healthy = (await pods(serve)).filter((p) => ready(p) && !p.metadata.deletionTimestamp);
      await serve.stop('SIGKILL');
      const killedAt = Date.now();
      serve = undefined;
      serve = await startServe(args, { listenTimeoutMs: 120_000 }); // also: the state loaded (a loaded machine takes long to load the modules)
      const upAt = Date.now();
      r.startup.push(upAt - killedAt);
      const after = await until(() => converged(serve!), `trial ${t} (${action}) to converge`, 60_000);
      r.convergence.push(Date.now() - upAt);
      r.trials++;
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
      r.duplicatePods += dupPods;
      r.duplicateProcesses += dupProcs;
      r.orphans += orphans;
      r.restartedHealthy += restarted;
      log(`trial ${t}: ${action}, killed -9, converged in ${Date.now() - upAt} ms; ${dupPods} dup pods, ${dupProcs} dup processes, ${orphans} orphans, ${restarted} restarted healthy`);
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

export const percentile = (xs: number[], p: number) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};
