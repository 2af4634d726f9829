// End to end with real processes: Jobs and CronJobs created in the store, run by the controllers, the scheduler
// and a node executor on the process runtime (`sh -c …` as the containers). The CronJob controller reads a clock
// that runs 60 times faster than real time, so an every-minute schedule fires every real second.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../src/model/object.ts';
import type { LowdbStore } from '../../src/store/lowdb-store.ts';
import { startControllers, type RunningControllers } from '../../src/controllers/manager.ts';
import { startScheduler, type Scheduler } from '../../src/scheduler/scheduler.ts';
import { containerLogFile } from '../../src/node/logs.ts';
import { cleanup, fastNode, openTestStore, tempDir } from '../node/helpers.ts';
import { until } from '../support/wait.ts';

let store: LowdbStore, dataDir: string, controllers: RunningControllers, scheduler: Scheduler;
const SPEED = 60;

test.before.each(async () => {
  dataDir = await tempDir();
  store = await openTestStore(dataDir);
  const realStart = Date.now();
  controllers = await startControllers({
    store, log: () => {}, queue: { baseDelayMs: 5, maxDelayMs: 100 },
    job: { podFailureBackoff: { baseMs: 100, maxMs: 400 } },
    cronjob: { now: () => new Date(realStart + (Date.now() - realStart) * SPEED), clockRate: SPEED },
  });
  scheduler = await startScheduler({ store, backoffInitialMs: 50, backoffMaxMs: 200 });
  await fastNode(store, dataDir);
});

test.after.each(async () => {
  await controllers?.stop();
  await scheduler?.stop();
  await cleanup();
});

function job(name: string, script: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'Job', metadata: { name, namespace: 'default' },
    spec: { ...spec, template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'host', command: ['sh', '-c', script] }] } } },
  };
}

const jobPods = async (name: string) => (await store.list('Pod')).filter((p) => p.metadata.labels?.['batch.kubernetes.io/job-name'] === name);
const condition = (j: KubeObject | undefined, type: string) => j?.status?.conditions?.find((c: any) => c.type === type && c.status === 'True');
const finishedJob = (name: string, type: 'Complete' | 'Failed') =>
  until(async () => { const j = await store.get('Job', 'default', name); return condition(j, type) && j; }, `${name} ${type}`, 30_000);
const exitCodes = (pods: KubeObject[]) => pods.map((p) => p.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).sort();

test('a Job of `exit 1` beyond its backoffLimit: each pod really fails with exit code 1, then the Job Failed (BackoffLimitExceeded)', async () => {
  await store.create(job('always-fails', 'exit 1', { backoffLimit: 2 }));
  const j = await finishedJob('always-fails', 'Failed');
  assert.is(condition(j, 'Failed').reason, 'BackoffLimitExceeded');
  assert.is(j.status.failed, 3, 'the first try and two retries');
  const pods = await jobPods('always-fails');
  assert.equal(exitCodes(pods), [1, 1, 1]);
  assert.ok(pods.every((p) => p.status.phase === 'Failed'));
  assert.equal(pods.map((p) => (p.metadata as any).finalizers), [undefined, undefined, undefined], 'all counted');
});

test('a Job failing once within its backoffLimit then succeeding: Complete with failed 1, succeeded 1', async () => {
  const mark = join(dataDir, 'tried-once');
  await store.create(job('second-time-lucky', `if [ -e ${mark} ]; then echo done; else touch ${mark}; exit 3; fi`, { backoffLimit: 2 }));
  const j = await finishedJob('second-time-lucky', 'Complete');
  assert.equal([j.status.succeeded, j.status.failed], [1, 1]);
  assert.equal(exitCodes(await jobPods('second-time-lucky')), [0, 3]);
});

test('an Indexed Job: each pod prints its $JOB_COMPLETION_INDEX, resolved by the node from the downward API', async () => {
  await store.create(job('shards', 'echo "shard $JOB_COMPLETION_INDEX"', { completions: 3, parallelism: 2, completionMode: 'Indexed' }));
  const j = await finishedJob('shards', 'Complete');
  assert.is(j.status.completedIndexes, '0-2');
  const out: string[] = [];
  for (const p of await jobPods('shards')) {
    const text = await readFile(containerLogFile(dataDir, { namespace: 'default', name: p.metadata.name, uid: p.metadata.uid }, 'main', 0), 'utf8');
    out.push(`${p.metadata.annotations!['batch.kubernetes.io/job-completion-index']}:${text.trim()}`);
  }
  assert.equal(out.sort(), ['0:shard 0', '1:shard 1', '2:shard 2']);
});

test('ttlSecondsAfterFinished removes the Job and its pods once it completed', async () => {
  // It all happens faster than polling sees: the store's watch records the history.
  const seen: string[] = [];
  const stop = await store.watch({}, ({ type, object: o }) => {
    if (o.kind === 'Pod' && o.status?.phase === 'Succeeded') seen.push('pod Succeeded');
    if (o.kind === 'Job' && condition(o, 'Complete')) seen.push('Job Complete');
    if (type === 'DELETED' && (o.kind === 'Job' || o.kind === 'Pod')) seen.push(`${o.kind} deleted`);
  });
  try {
    await store.create(job('ephemeral', 'true', { ttlSecondsAfterFinished: 0 }));
    await until(async () => !(await store.get('Job', 'default', 'ephemeral')) && (await jobPods('ephemeral')).length === 0, 'the Job and its pod gone', 20_000);
  } finally {
    stop();
  }
  const order = [...new Set(seen)];
  assert.equal(order, ['pod Succeeded', 'Job Complete', 'Job deleted', 'Pod deleted']);
});

function cronJob(name: string, policy: string, script: string): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: 'default' },
    spec: {
      schedule: '* * * * *', concurrencyPolicy: policy, successfulJobsHistoryLimit: 10,
      jobTemplate: { spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: 'host', command: ['sh', '-c', script] }] } } } },
    },
  };
}

const ownedJobs = async (cj: KubeObject) => (await store.list('Job')).filter((j) => j.metadata.ownerReferences?.[0]?.uid === cj.metadata.uid);

test('CronJob Allow: short runs every (simulated) minute, each Job completes, lastSuccessfulTime follows', async () => {
  const cj = await store.create(cronJob('ticker', 'Allow', 'echo tick'));
  const done = await until(async () => { const js = (await ownedJobs(cj)).filter((j) => condition(j, 'Complete')); return js.length >= 2 && js; }, 'two completed runs', 30_000);
  assert.ok(done.every((j) => /^ticker-\d+$/.test(j.metadata.name)), done.map((j) => j.metadata.name).join());
  const status = await until(async () => { const s = (await store.get('CronJob', 'default', 'ticker'))!.status; return s?.lastSuccessfulTime && s; }, 'lastSuccessfulTime');
  assert.ok(status.lastScheduleTime);
});

test('CronJob Allow with long runs: Jobs overlap; Forbid: never two at once; Replace: the running Job is deleted and its process stopped', async () => {
  const allow = await store.create(cronJob('overlap', 'Allow', 'sleep 30'));
  await until(async () => ((await store.get('CronJob', 'default', 'overlap'))!.status?.active ?? []).length >= 2, 'two Jobs active at once', 30_000);
  await store.delete('CronJob', 'default', 'overlap');
  await until(async () => (await ownedJobs(allow)).length === 0, 'collected with the CronJob', 30_000);

  const forbid = await store.create(cronJob('single', 'Forbid', 'sleep 30'));
  await until(async () => (await store.list('Event')).some((e) => e.reason === 'JobAlreadyActive' && (e.involvedObject as { name?: string } | undefined)?.name === 'single'), 'a run skipped', 30_000);
  assert.is((await ownedJobs(forbid)).length, 1);
  await store.delete('CronJob', 'default', 'single');

  const replace = await store.create(cronJob('fresh', 'Replace', 'sleep 30'));
  const [first] = await until(async () => { const js = await ownedJobs(replace); return js.length === 1 && js; }, 'a first Job', 30_000);
  const running = await until(async () => { const ps = (await jobPods(first.metadata.name)).filter((p) => p.status?.phase === 'Running'); return ps.length === 1 && ps[0]; }, 'its pod running', 30_000);
  await until(async () => { const js = await ownedJobs(replace); return js.length === 1 && js[0].metadata.name !== first.metadata.name; }, 'replaced by the next run', 30_000);
  await until(async () => !(await store.get('Pod', 'default', running.metadata.name)), 'the replaced pod stopped and removed', 30_000);
  assert.ok((await store.list('Event')).some((e) => e.reason === 'SuccessfulDelete' && e.message === `Deleted job ${first.metadata.name}`));
});

test.run();
