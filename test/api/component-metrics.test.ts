// GET /metrics of a real `serve` also carries the controllers' work queues (client-go's workqueue_* names) and the
// scheduler's attempts (kube-scheduler's names): a Deployment on a server without nodes is handled by the
// deployment and replicaset controllers, and its pod is tried and found unschedulable.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const app = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers: [{name: web, image: "nginx:1.27"}]
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess;
const value = (text: string, series: string) => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};
const scrape = async () => (await serve.get('/metrics')).text;

test.before(async () => {
  repo = makeRepo({ 'deploy/app.yaml': app });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-cmetrics-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--path', 'deploy', '--nodes', '0']);
});

test.after(async () => {
  await serve?.stop();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('scheduler attempts and their latency, by result', async () => {
  const text = await until(async () => { const t = await scrape(); return (value(t, 'scheduler_schedule_attempts_total{result="unschedulable",profile="default-scheduler"}') ?? 0) >= 1 && t; }, 'an unschedulable attempt counted');
  assert.is(value(text, 'scheduler_scheduling_attempt_duration_seconds_count{result="unschedulable",profile="default-scheduler"}'), value(text, 'scheduler_schedule_attempts_total{result="unschedulable",profile="default-scheduler"}'));
  assert.is(value(text, 'scheduler_schedule_attempts_total{result="scheduled",profile="default-scheduler"}'), undefined, 'no node, nothing scheduled');
});

test('controller work queues: depth, adds and time spent waiting, by queue name', async () => {
  const text = await until(async () => { const t = await scrape(); return (value(t, 'workqueue_adds_total{name="replicaset"}') ?? 0) >= 1 && t; }, 'the replicaset queue used');
  assert.ok(value(text, 'workqueue_adds_total{name="deployment"}')! >= 1, text);
  const waited = value(text, 'workqueue_queue_duration_seconds_count{name="deployment"}')!;
  assert.ok(waited >= 1 && waited <= value(text, 'workqueue_adds_total{name="deployment"}')!);
  assert.is(value(text, 'workqueue_depth{name="deployment"}'), 0, 'nothing left waiting');
  assert.match(text, '# TYPE workqueue_queue_duration_seconds histogram');
});

test.run();
