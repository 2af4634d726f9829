// `npm run bench`, Job part: commit → a Job of 100 completions at parallelism 10 Complete, with real processes (each
// pod a `sh -c 'exit 0'`). The figure that says what convergit adds is the time per completion: a pod created,
// scheduled, started, finished, counted and replaced. Not a test: nothing asserts a time.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const COMPLETIONS = 100;
const PARALLELISM = 10;

const job = (name: string) => `apiVersion: batch/v1
kind: Job
metadata: {name: ${name}}
spec:
  completions: ${COMPLETIONS}
  parallelism: ${PARALLELISM}
  template:
    spec:
      restartPolicy: Never
      terminationGracePeriodSeconds: 1
      containers:
        - name: work
          image: git:apps/bench
          command: ["sh", "-c", "exit 0"]
          resources: {requests: {cpu: 10m, memory: 16Mi}}
`;

const ms = (n: number) => `${n.toFixed(1)} ms`;
const complete = (j: any) => j?.status?.conditions?.some((c: any) => c.type === 'Complete' && c.status === 'True');

export async function jobBench() {
  const repo = makeRepo({ 'apps/bench/README': 'bench\n' });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-bench-job-'));
  const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--node-cpu', '16', '--node-memory', '16Gi']);
  let total = 0, succeeded = 0;
  try {
    await until(async () => (await serve.get('/status')).body.sync === 'Synced', 'first sync', 20_000);
    repo.write('batch.yaml', job('batch'));
    const t0 = performance.now();
    repo.commit(`batch: ${COMPLETIONS} completions at parallelism ${PARALLELISM}`);
    const j = await until(async () => { const j = (await serve.get('/apis/batch/v1/namespaces/default/jobs/batch')).body; return complete(j) && j; }, 'batch Complete', 600_000);
    total = performance.now() - t0;
    succeeded = j.status.succeeded;
  } finally {
    await serve.shutdown();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
  console.log(`commit → Job of ${COMPLETIONS} completions (parallelism ${PARALLELISM}) Complete: ${ms(total)} (${succeeded} succeeded); ${ms(total / COMPLETIONS)} a completion, ${ms((total / COMPLETIONS) * PARALLELISM)} a pod's life`);
}
