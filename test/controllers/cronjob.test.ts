// The CronJob controller against a real store, on a clock the test moves: each sync is called by the test, so
// what one scheduled time does (and when the controller asks to look again) is seen exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import type { Store } from '../../src/store/store.ts';
import { cronJobController, jobNameFor, mostRecentScheduleTime } from '../../src/controllers/cronjob.ts';
import { parseSchedule, rfc3339In } from '../../src/controllers/cron-schedule.ts';
import { cleanup, clock, freshStore } from '../store/helpers.ts';
import { until } from '../support/wait.ts';
import { contextFor } from './helpers.ts';

test.after.each(cleanup);

function cronJob(name: string, schedule: string, spec: Record<string, unknown> = {}): KubeObject {
  return {
    apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name, namespace: 'default' },
    spec: {
      schedule, ...spec,
      jobTemplate: {
        metadata: { labels: { app: name }, annotations: { team: 'blue' } },
        spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'main', image: 'host', command: ['date'] }] } } },
      },
    },
  };
}

const minutes = (iso: string) => Math.floor(Date.parse(iso) / 60_000);
const jobs = async (store: Store) => (await store.list('Job')).map((j) => j.metadata.name).sort();
const events = async (store: Store, reason: string) => (await store.list('Event')).filter((e) => e.reason === reason).map((e) => `${e.type} ${e.message}`);
const cjStatus = async (store: Store, name = 'tick') => (await store.get('CronJob', 'default', name))!.status ?? {};

/** A store and a controller context on a clock that starts at `start`; sync() runs one reconcile of `tick`. */
async function setup(start: string) {
  const c = clock(start);
  const { store } = await freshStore({ now: c.now });
  const ctx = await contextFor(store, ['CronJob', 'Job'], c.now);
  const controller = cronJobController();
  // Store watches deliver synchronously: the caches are current when a write returns.
  const sync = (name = 'tick') => controller.sync(`default/${name}`, ctx);
  return { store, ctx, clock: c, sync };
}

/** What the Job controller writes when a Job finishes. */
async function finishJob(store: Store, name: string, type: 'Complete' | 'Failed', at: string) {
  const cond = { type, status: 'True', lastProbeTime: at, lastTransitionTime: at };
  await store.updateStatus('Job', 'default', name, { startTime: at, ...(type === 'Complete' && { completionTime: at, succeeded: 1 }), ...(type === 'Failed' && { failed: 1 }), conditions: [cond] });
}

test('schedules read as Kubernetes reads them: five fields, names, descriptors, day-of-month OR day-of-week, time zones', () => {
  const next = (spec: string, from: string, tz?: string) => parseSchedule(spec, tz).next(new Date(from))!.toISOString();
  assert.is(next('*/5 * * * *', '2024-05-01T10:05:00Z'), '2024-05-01T10:10:00.000Z', 'strictly after');
  assert.is(next('@hourly', '2024-05-01T10:02:00Z'), '2024-05-01T11:00:00.000Z');
  assert.is(next('@midnight', '2024-05-01T10:02:00Z'), '2024-05-02T00:00:00.000Z');
  assert.is(next('0 9 * JAN-DEC MON', '2024-05-01T10:00:00Z'), '2024-05-06T09:00:00.000Z');
  // Both restricted: the 1st of the month OR a Monday (Vixie cron, robfig/cron).
  assert.is(next('0 12 1 * 1', '2024-05-01T12:30:00Z'), '2024-05-06T12:00:00.000Z');
  assert.is(next('0 9 * * *', '2024-05-01T00:00:00Z', 'Europe/Paris'), '2024-05-01T07:00:00.000Z');
  assert.is(next('@hourly', '2024-05-01T10:02:00Z', 'Asia/Kolkata'), '2024-05-01T10:30:00.000Z');
  for (const [bad, why] of [
    ['*/2 * * * * *', /expected exactly 5 fields, found 6/], ['TZ=UTC 0 * * * *', /use spec\.timeZone/], ['@every 1h', /@every/],
    ['61 * * * *', /minute/], ['@fortnightly', /unrecognized descriptor/],
  ] as const) assert.throws(() => parseSchedule(bad), why, bad);
  assert.is(rfc3339In(new Date('2024-05-01T07:00:00Z'), 'Europe/Paris'), '2024-05-01T09:00:00+02:00');
  assert.is(rfc3339In(new Date('2024-05-01T07:00:00Z')), '2024-05-01T07:00:00Z');
});

test('mostRecentScheduleTime: the latest activation since the last schedule, and how many were missed', () => {
  const every5 = parseSchedule('*/5 * * * *');
  const cj = (status: Record<string, string> = {}, spec: Record<string, unknown> = {}) => ({ ...cronJob('x', '*/5 * * * *', spec), metadata: { name: 'x', creationTimestamp: '2024-05-01T10:00:30Z' }, status });
  assert.equal(mostRecentScheduleTime(cj(), new Date('2024-05-01T10:04:00Z'), every5, true), { earliest: new Date('2024-05-01T10:00:30Z'), missed: 0 });
  const one = mostRecentScheduleTime(cj(), new Date('2024-05-01T10:07:10Z'), every5, true);
  assert.equal([one.mostRecent?.toISOString(), one.missed], ['2024-05-01T10:05:00.000Z', 1]);
  const many = mostRecentScheduleTime(cj({ lastScheduleTime: '2024-05-01T10:05:00Z' }), new Date('2024-05-01T12:01:00Z'), every5, true);
  assert.equal([many.mostRecent?.toISOString(), many.missed], ['2024-05-01T12:00:00.000Z', 23]);
  // startingDeadlineSeconds bounds how far back it looks.
  const bounded = mostRecentScheduleTime(cj({ lastScheduleTime: '2024-05-01T10:05:00Z' }, { startingDeadlineSeconds: 30 }), new Date('2024-05-01T12:01:00Z'), every5, true);
  assert.equal([bounded.mostRecent, bounded.missed], [undefined, 0]);
});

test('at its time a Job <cronjob>-<minutes> is created from the template, with the scheduled-timestamp annotation; status and requeue', async () => {
  const { store, clock: c, sync } = await setup('2024-05-01T10:00:30Z');
  const cj = await store.create(cronJob('tick', '*/5 * * * *'));
  const early = await sync();
  assert.equal(early, { requeueAfterMs: 4 * 60_000 + 30_000 + 100 }, 'wakes 100 ms after 10:05');
  assert.equal(await jobs(store), []);

  c.advance(4 * 60_000 + 30_100);
  const after = await sync();
  const name = jobNameFor('tick', new Date('2024-05-01T10:05:00Z'));
  assert.is(name, `tick-${minutes('2024-05-01T10:05:00Z')}`);
  const job = (await store.get('Job', 'default', name))!;
  assert.equal(job.metadata.labels, { app: 'tick' });
  assert.equal(job.metadata.annotations, { team: 'blue', 'batch.kubernetes.io/cronjob-scheduled-timestamp': '2024-05-01T10:05:00Z' });
  assert.equal(job.metadata.ownerReferences, [{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'tick', uid: cj.metadata.uid, controller: true, blockOwnerDeletion: true }]);
  assert.equal(job.spec, cj.spec.jobTemplate.spec);
  const status = await cjStatus(store);
  assert.equal(status, {
    active: [{ apiVersion: 'batch/v1', kind: 'Job', name, namespace: 'default', resourceVersion: job.metadata.resourceVersion, uid: job.metadata.uid }],
    lastScheduleTime: '2024-05-01T10:05:00Z',
  });
  assert.equal(after, { requeueAfterMs: 5 * 60_000 }, 'the next one, 10:10 plus 100 ms');
  assert.equal(await events(store, 'SuccessfulCreate'), [`Normal Created job ${name}`]);
  // Synced again at the same time: the name is the lock, nothing new.
  await sync();
  assert.equal(await jobs(store), [name]);
});

test('a finished Job leaves the active list (SawCompletedJob) and sets lastSuccessfulTime; history limits delete the oldest', async () => {
  const { store, clock: c, sync } = await setup('2024-05-01T10:00:30Z');
  await store.create(cronJob('tick', '* * * * *', { successfulJobsHistoryLimit: 1, failedJobsHistoryLimit: 1 }));
  const names: string[] = [];
  for (let i = 0; i < 3; i++) {
    c.advance(60_000);
    await sync();
    const name = (await cjStatus(store)).active.at(-1).name;
    names.push(name);
    c.advance(5_000);
    await finishJob(store, name, i === 1 ? 'Failed' : 'Complete', new Date(c.now()).toISOString().replace(/\.\d+Z$/, 'Z'));
    await until(async () => { await sync(); return !(await cjStatus(store)).active; }, 'seen finished');
  }
  assert.equal(await jobs(store), [names[1], names[2]], 'one Complete and one Failed kept');
  const s = await cjStatus(store);
  assert.is(s.lastSuccessfulTime, '2024-05-01T10:03:45Z');
  assert.equal(await events(store, 'SuccessfulDelete'), [`Normal Deleted job ${names[0]}`]);
  assert.ok((await events(store, 'SawCompletedJob')).includes(`Normal Saw completed job: ${names[1]}, condition: Failed`));
});

test('concurrencyPolicy: Allow runs side by side, Forbid skips while one runs, Replace deletes the running one', async () => {
  for (const policy of ['Allow', 'Forbid', 'Replace']) {
    const { store, clock: c, sync } = await setup('2024-05-01T10:00:30Z');
    await store.create(cronJob('tick', '* * * * *', { concurrencyPolicy: policy }));
    c.advance(60_000);
    await sync();
    const first = jobNameFor('tick', new Date('2024-05-01T10:01:00Z'));
    const second = jobNameFor('tick', new Date('2024-05-01T10:02:00Z'));
    c.advance(60_000);
    await sync();
    const active = ((await cjStatus(store)).active ?? []).map((r: any) => r.name);
    if (policy === 'Allow') {
      assert.equal(await jobs(store), [first, second]);
      assert.equal(active, [first, second]);
    } else if (policy === 'Forbid') {
      assert.equal(await jobs(store), [first]);
      assert.equal(active, [first]);
      assert.equal(await events(store, 'JobAlreadyActive'), ['Normal Not starting job because prior execution is running and concurrency policy is Forbid']);
      assert.is((await cjStatus(store)).lastScheduleTime, '2024-05-01T10:01:00Z', 'the skipped time is not recorded');
    } else {
      assert.equal(await jobs(store), [second]);
      assert.equal(active, [second]);
      assert.equal(await events(store, 'SuccessfulDelete'), [`Normal Deleted job ${first}`]);
    }
    await cleanup();
  }
});

test('schedules missed while down: only the most recent runs; more than 100 missed warns (TooManyMissedTimes) and still runs it', async () => {
  const { store, clock: c, sync } = await setup('2024-05-01T10:00:30Z');
  await store.create(cronJob('tick', '* * * * *'));
  c.advance(3 * 3600_000); // three hours with nothing running
  await sync();
  assert.equal(await jobs(store), [jobNameFor('tick', new Date('2024-05-01T13:00:00Z'))]);
  assert.equal(await events(store, 'TooManyMissedTimes'), ['Warning too many missed start times: 180. Set or decrease .spec.startingDeadlineSeconds or check clock skew']);
  c.advance(60_000);
  await sync();
  assert.is((await jobs(store)).length, 2, 'then one per minute again');
});

test('startingDeadlineSeconds: a schedule missed longer ago than the deadline is not run', async () => {
  const { store, clock: c, sync } = await setup('2024-05-01T10:00:30Z');
  await store.create(cronJob('tick', '*/10 * * * *', { startingDeadlineSeconds: 60 }));
  c.advance(12 * 60_000); // 10:12:30: the 10:10 run is 150 s late
  const r = await sync();
  assert.equal(await jobs(store), []);
  assert.equal(r, { requeueAfterMs: 7 * 60_000 + 30_000 + 100 }, 'waits for 10:20');
  assert.is((await cjStatus(store)).lastScheduleTime, undefined);
});

test('suspend, an unknown timeZone and an unparseable schedule create nothing; timeZone moves the schedule and the annotation', async () => {
  const { store, clock: c, sync } = await setup('2024-05-01T06:59:30Z');
  await store.create(cronJob('off', '* * * * *', { suspend: true }));
  await store.create(cronJob('mars', '* * * * *', { timeZone: 'Mars/Olympus' }));
  await store.create(cronJob('bad', '61 * * * *'));
  await store.create(cronJob('paris', '0 9 * * *', { timeZone: 'Europe/Paris' }));
  c.advance(60_000);
  for (const n of ['off', 'mars', 'bad', 'paris']) await sync(n);
  assert.equal(await jobs(store), [jobNameFor('paris', new Date('2024-05-01T07:00:00Z'))]);
  const job = (await store.list('Job'))[0];
  assert.is(job.metadata.annotations!['batch.kubernetes.io/cronjob-scheduled-timestamp'], '2024-05-01T09:00:00+02:00');
  assert.equal(await events(store, 'UnknownTimeZone'), ['Warning invalid timeZone: "Mars/Olympus": unknown time zone Mars/Olympus']);
  assert.match((await events(store, 'UnparseableSchedule'))[0], /^Warning unparseable schedule: "61 \* \* \* \*" : .*minute/);
});

test('an active Job that disappeared leaves the list (MissingJob)', async () => {
  const { store, clock: c, sync } = await setup('2024-05-01T10:00:30Z');
  await store.create(cronJob('tick', '0 * * * *'));
  c.advance(3600_000);
  await sync();
  const [name] = await jobs(store);
  await store.delete('Job', 'default', name);
  await until(async () => { await sync(); return !(await cjStatus(store)).active; }, 'active list emptied');
  assert.equal(await events(store, 'MissingJob'), [`Normal Active job went missing: ${name}`]);
});

test.run();
