// `npm run bench`, churn part: single-object GET latency over real HTTP while a 1,000-pod Deployment scales up
// from 0 and is then deleted (hollow nodes, so the pods cost the store and the controllers, not processes).
// Issue 13 asks p99 ≤ 100 ms; Kubernetes' SLO for a single-object GET is p99 ≤ 1 s. Asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { profileSummary } from './profile-summary.ts';
import { readdirSync } from 'node:fs';

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
      containers:
        - name: main
          image: registry.example/app:1
          command: ["app"]
`;

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.ceil((xs.length * p) / 100) - 1)] ?? NaN;

export async function getUnderChurn(pods = Number(process.env.CHURN_PODS ?? 1000), nodes = Number(process.env.CHURN_NODES ?? 20)) {
  const repo = makeRepo({ 'README.md': 'churn bench\n' });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-churn-'));
  const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--hollow', '--nodes', String(nodes), '--node-name', 'hollow'], { listenTimeoutMs: 120_000, nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${path.join(dataDir, 'prof')}`] });
  try {
    await until(async () => (await serve.get('/status')).body.sync === 'Synced', 'first sync', 120_000);
    const phase = { up: [] as number[], down: [] as number[] };
    let current: number[] | undefined;
    let stop = false;
    // One GET at a time, back to back, as a user's kubectl or a dashboard polling one object would make them.
    const getter = (async () => {
      while (!stop) {
        const g0 = performance.now();
        await fetch(`${serve.url}/api/v1/nodes/hollow-1`).then((r) => r.arrayBuffer()).catch(() => {});
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
    }, what, 600_000);
    const podsLeft = async () => {
      const b = (await serve.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dchurn&limit=1')).body;
      return b?.items ? b.items.length + (b.metadata?.remainingItemCount ?? 0) : -1;
    };
    const t0 = performance.now();
    current = phase.up;
    repo.write('churn.yaml', deployment(pods));
    repo.commit(`${pods} pods`);
    await poll(async () => (await serve.get('/apis/apps/v1/namespaces/default/deployments/churn')).body?.status?.availableReplicas === pods, `${pods} pods available`);
    const upMs = performance.now() - t0;
    const t1 = performance.now();
    current = phase.down;
    repo.remove('churn.yaml');
    repo.commit('delete it');
    await poll(async () => (await podsLeft()) === 0, 'every pod gone');
    const downMs = performance.now() - t1;
    stop = true;
    await getter;
    const line = (xs: number[]) => `p50 ${pct(xs, 50).toFixed(0)} ms, p99 ${pct(xs, 99).toFixed(0)} ms, max ${Math.max(...xs).toFixed(0)} ms over ${xs.length} GETs`;
    console.log(`\nsingle GET while a ${pods}-pod Deployment churns (${nodes} hollow nodes)   (target p99 ≤ 100 ms; Kubernetes' SLO p99 ≤ 1 s)`);
    console.log(`  scale-up 0 → ${pods} available (${(upMs / 1000).toFixed(1)} s): ${line(phase.up)}`);
    console.log(`  deletion → no pod left (${(downMs / 1000).toFixed(1)} s): ${line(phase.down)}`);
    console.log(`  load average: ${(await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} (2 cores, shared)`);
  } finally {
    await serve.stop();
    const prof = readdirSync(path.join(dataDir, 'prof')).filter((f) => f.endsWith('.cpuprofile'));
    if (prof.length) console.log(`  top self time in serve:\n${profileSummary(path.join(dataDir, 'prof', prof[0]), 12).map((l) => `    ${l}`).join('\n')}`);
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await getUnderChurn();
