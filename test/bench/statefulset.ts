// `npm run bench`, StatefulSet part: commit → a 10-ordinal StatefulSet all Ready, with real processes. OrderedReady
// starts each ordinal once the one before is Ready, so the total is about ten readiness periods; the figure that
// says what convergit adds is the time from one pod Ready to the next one created. Not a test: nothing asserts a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const ORDINALS = 10;
const PROBE_PERIOD_S = 1;

const app = `const http = require('node:http');
const server = http.createServer((req, res) => res.end('ok\\n'));
server.listen(8080, process.env.POD_IP || '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;
const sts = (name: string) => `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: ${name}}
spec:
  serviceName: ${name}
  replicas: ${ORDINALS}
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
        - name: app
          image: git:apps/bench
          command: ["node", "server.js"]
          readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: ${PROBE_PERIOD_S}}
          resources: {requests: {cpu: 10m, memory: 16Mi}}
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (n: number) => `${n.toFixed(1)} ms`;
const readyAt = (p: any) => Date.parse(p.status?.conditions?.find((c: any) => c.type === 'Ready' && c.status === 'True')?.lastTransitionTime ?? '');

export async function statefulSetBench(runs = 3) {
  const repo = makeRepo({ 'apps/bench/server.js': app });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-sts-'));
  const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--node-cpu', '16', '--node-memory', '16Gi']);
  const totals: number[] = [], gaps: number[] = [];
  try {
    await until(async () => (await serve.get('/status')).body.sync === 'Synced', 'first sync', 20_000);
    for (let r = 1; r <= runs; r++) {
      const name = `db${r}`;
      repo.write(`${name}.yaml`, sts(name));
      const t0 = performance.now();
      repo.commit(`${name}: ${ORDINALS} ordinals`);
      await until(async () => (await serve.get(`/apis/apps/v1/namespaces/default/statefulsets/${name}`)).body?.status?.readyReplicas === ORDINALS, `${name} Ready`, 120_000);
      totals.push(performance.now() - t0);
      // Creation times are in seconds; Ready times too: the gap is a coarse figure, taken over all ordinals.
      const pods = ((await serve.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${name}`)).body.items as any[])
        .sort((a, b) => Number(a.metadata.name.split('-').pop()) - Number(b.metadata.name.split('-').pop()));
      for (let i = 1; i < pods.length; i++) gaps.push(Date.parse(pods[i].metadata.creationTimestamp) - readyAt(pods[i - 1]));
      repo.remove(`${name}.yaml`);
      repo.commit(`remove ${name}`);
      await until(async () => ((await serve.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${name}`)).body.items as any[]).length === 0, `${name} gone`, 60_000);
    }
  } finally {
    await serve.shutdown();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`commit → ${ORDINALS}-ordinal StatefulSet all Ready (OrderedReady, readiness period ${PROBE_PERIOD_S} s): median of ${runs} ${ms(median(totals))} (min ${ms(Math.min(...totals))}, max ${ms(Math.max(...totals))}); ${ms(median(totals) / ORDINALS)} an ordinal`);
  console.log(`  previous ordinal Ready → next created: median ${ms(median(gaps))} (second resolution) over ${gaps.length}`);
}
