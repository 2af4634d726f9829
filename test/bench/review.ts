// Figures for reviewing and watching changes: what a plan costs, and how soon /status says Healthy once pods are Ready.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as yaml from 'js-yaml';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { settledLive } from '../support/simulated-live.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { loadDesired } from '../../src/sync/desired.ts';
import { planRevision } from '../../src/review/plan-revision.ts';
import { renderReport } from '../../src/review/render.ts';
import type { KubeObject } from '../../src/model/object.ts';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (n: number) => `${n.toFixed(1)} ms`;

const deployment = (i: number, image: string) => `apiVersion: apps/v1
kind: Deployment
metadata: { name: app-${i} }
spec:
  replicas: 2
  selector: { matchLabels: { app: app-${i} } }
  template:
    metadata: { labels: { app: app-${i} } }
    spec:
      containers:
        - name: app
          image: ${image}
          command: [node, server.js]
          envFrom: [{ configMapRef: { name: config-${i} } }]
          resources: { requests: { cpu: 50m, memory: 64Mi } }
---
apiVersion: v1
kind: ConfigMap
metadata: { name: config-${i} }
data: { LEVEL: info }
---
apiVersion: v1
kind: Service
metadata: { name: app-${i} }
spec: { selector: { app: app-${i} }, ports: [{ port: 8080 }] }
`;

const node = (i: number): KubeObject => ({
  apiVersion: 'v1', kind: 'Node', metadata: { name: `node-${i}` },
  status: { allocatable: { cpu: '16', memory: '64Gi', pods: '110' }, conditions: [{ type: 'Ready', status: 'True' }] },
});

/** A branch changing 10 of 100 apps, planned against a settled live state (300 objects, 200 pods, 4 nodes) and the merge base. */
async function planCost(runs = 9) {
  const files: Record<string, string> = {};
  for (let i = 0; i < 100; i++) files[`apps/app-${i}.yaml`] = deployment(i, 'node:20');
  const repo = makeRepo(files);
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-'));
  try {
    const base = repo.git('rev-parse', 'HEAD');
    repo.git('checkout', '-q', '-b', 'feature');
    for (let i = 0; i < 10; i++) repo.write(`apps/app-${i}.yaml`, deployment(i, 'node:22'));
    repo.commit('ten apps on node 22');
    const source = new GitSource({ repo: repo.dir, branch: 'main', path: '', dataDir, interval: 0 });
    await source.prepare();
    const applied = await loadDesired(await source.read(base), source, {});
    const live = settledLive(applied.objects.map((d) => d.object), [1, 2, 3, 4].map(node));
    const time = async (f: () => Promise<unknown>) => {
      const xs: number[] = [];
      for (let r = 0; r < runs; r++) {
        const t0 = performance.now();
        await f();
        xs.push(performance.now() - t0);
      }
      return median(xs);
    };
    let lines = 0;
    const vsLive = await time(async () => {
      const report = await planRevision(source, { ref: 'feature', path: '' }, { live: { live }, source: 'server', name: 'bench' });
      lines = renderReport(report, 'markdown').split('\n').length;
    });
    const vsBase = await time(() => planRevision(source, { ref: 'feature', path: '' }, { branch: 'main' }));
    console.log(`plan of a branch changing 10 of 100 apps (300 objects): vs a live state of ${live.objects.length} objects on 4 nodes ${ms(vsLive)}, vs the merge base ${ms(vsBase)} (medians of ${runs}; the markdown comment is ${lines} lines)`);
  } finally {
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const SERVER = `const http = require('node:http');
http.createServer((req, res) => res.end('ok')).listen(8080, process.env.POD_IP);
`;
const web = (version: number) => yaml.dump({
  apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' },
  spec: {
    replicas: 3, selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' }, annotations: { version: String(version) } },
      spec: { containers: [{ name: 'web', image: 'git:app', command: ['node', 'server.js'], readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 } }] },
    },
  },
});

/** How long /status takes to say Healthy after the last pod of a rollout is Ready: the health monitor's lag. */
async function healthLag(runs = 5) {
  const repo = makeRepo({ 'app/server.js': SERVER, 'web.yaml': web(0) });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-'));
  const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--node-cpu', '4', '--node-memory', '4Gi']);
  const lags: number[] = [];
  const get = (p: string) => fetch(serve.url + p).then((r) => r.json()) as Promise<any>;
  const allReady = async (version: number) => {
    const pods = (await get('/api/v1/namespaces/default/pods')).items as any[];
    const current = pods.filter((p) => !p.metadata.deletionTimestamp);
    return current.length === 3 && current.every((p) => p.metadata.annotations?.version === String(version)
      && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'));
  };
  try {
    await until(async () => (await get('/status')).health?.status === 'Healthy', 'first rollout Healthy', 30_000);
    for (let r = 1; r <= runs; r++) {
      repo.write('web.yaml', web(r));
      const sha = repo.commit(`web ${r}`);
      await until(() => allReady(r), 'pods Ready', 30_000);
      const ready = performance.now();
      await until(async () => { const s = await get('/status'); return s.health?.revision === sha && s.health.status === 'Healthy'; }, 'Healthy', 30_000);
      lags.push(performance.now() - ready);
    }
  } finally {
    await serve.shutdown();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`last pod Ready → /status Healthy (3 replicas, ${runs} rollouts): median ${ms(median(lags))} (max ${ms(Math.max(...lags))}), polled every 25 ms`);
}

export async function review() {
  await planCost();
  await healthLag();
}
