// The CronJob controller, after kube-controller-manager's (cronjob_controllerv2): at each scheduled time it
// creates a Job named `<cronjob>-<scheduled time in minutes since the epoch>` (the name is the lock against
// creating it twice), honours concurrencyPolicy, startingDeadlineSeconds and suspend, keeps status.active,
// lastScheduleTime and lastSuccessfulTime, and deletes finished Jobs beyond the history limits. Schedules
// missed while the controller was not running are not replayed: only the most recent one runs, if still
// within startingDeadlineSeconds; more than 100 missed gives a TooManyMissedTimes warning, and it still runs.
import type { KubeObject, ObjectRef } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { controllerOf, ownerRefTo } from '../model/pod.ts';
import { isoSeconds } from '../model/time.ts';
import { keyOf, splitKey } from '../model/key.ts';
import type { ControllerContext, ControllerSpec, SyncResult } from './controller.ts';
import { checkTimeZone, parseSchedule, rfc1123z, rfc3339In, ScheduleError, type Schedule } from './cron-schedule.ts';
import { compareText } from '../model/compare-text.ts';

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';

export interface CronJobControllerOptions {
  /** The clock schedules are read against. Default: the controllers' clock. Tests pass a faster one. */
  now?: () => Date;
  /** Clock milliseconds per real millisecond, so a faster test clock requeues in real time. Default 1. */
  clockRate?: number;
}

/** Kubernetes' nextScheduleDelta: wake a little after the scheduled time, so that it has surely passed. */
const NEXT_SCHEDULE_DELTA_MS = 100;

type Obj = Record<string, any>;

const finishedType = (job: KubeObject): 'Complete' | 'Failed' | undefined => {
  for (const t of ['Complete', 'Failed'] as const) if (getCondition(job.status?.conditions, t)?.status === 'True') return t;
  return undefined;
};

/** `<cronjob>-<minutes since the epoch>`: one name per scheduled time. */
export const jobNameFor = (cronJobName: string, scheduled: Date) => `${cronJobName}-${Math.floor(scheduled.getTime() / 60_000)}`;

/**
 * Kubernetes' mostRecentScheduleTime: from the last schedule (or the CronJob's creation), bounded by
 * startingDeadlineSeconds when asked, the most recent activation not after `now` and how many were missed.
 */
export function mostRecentScheduleTime(cj: KubeObject, now: Date, schedule: Schedule, withDeadline: boolean): { earliest: Date; mostRecent?: Date; missed: number } {
  let earliest = new Date(cj.status?.lastScheduleTime ?? cj.metadata.creationTimestamp ?? now.toISOString());
  const sds = cj.spec?.startingDeadlineSeconds;
  if (withDeadline && typeof sds === 'number') {
    const deadline = new Date(now.getTime() - sds * 1000);
    if (deadline > earliest) earliest = deadline;
  }
  const t1 = schedule.next(earliest);
  if (!t1 || now < t1) return { earliest, missed: 0 };
  const t2 = schedule.next(t1);
  if (!t2 || now < t2) return { earliest, mostRecent: t1, missed: 1 };
  // As Kubernetes does: estimate the count from the first interval, then walk the last stretch exactly.
  const between = Math.round((t2.getTime() - t1.getTime()) / 1000);
  if (between < 1) throw new ScheduleError('time difference between two schedules is less than 1 second');
  const missed = Math.floor((now.getTime() - t1.getTime()) / 1000 / between) + 1;
  let mostRecent = t1;
  for (let t = schedule.next(new Date(t1.getTime() + (missed - 2) * between * 1000)); t && t <= now; t = schedule.next(t)) mostRecent = t;
  return { earliest, mostRecent, missed };
}

export function cronJobController(opts: CronJobControllerOptions = {}): ControllerSpec {
  const rate = opts.clockRate ?? 1;
  const spec: ControllerSpec = {
    name: 'cronjob',
    kinds: ['CronJob', 'Job'],

    watch(ctx, enqueue) {
      const cronJobs = ctx.informer('CronJob');
      const enqueueOwner = (job: KubeObject) => {
        const ref = controllerOf(job);
        if (ref?.kind !== 'CronJob') return;
        const cj = cronJobs.get(job.metadata.namespace, ref.name);
        if (cj && cj.metadata.uid === ref.uid) enqueue(keyOf(cj));
      };
      cronJobs.on({ add: (cj) => enqueue(keyOf(cj)), update: (_o, cj) => enqueue(keyOf(cj)) });
      ctx.informer('Job').on({ add: enqueueOwner, update: (_o, j) => enqueueOwner(j), delete: enqueueOwner });
    },

    async sync(key, ctx): Promise<SyncResult> {
      const { namespace, name } = splitKey(key);
      // The store, not the cache: the status just written (active, lastScheduleTime) is what guards a second Job.
      const cached = ctx.informer('CronJob').get(namespace, name);
      const cj = cached && (await ctx.store.get('CronJob', namespace, name));
      if (!cj) return;
      const now = (opts.now ?? ctx.now)();
      const jobs = ctx.informer('Job').list(namespace).filter((j) => controllerOf(j)?.uid === cj.metadata.uid);
      const status: Obj = structuredClone(cj.status ?? {});
      const before = JSON.stringify(status);
      const sync = new CronJobSync(ctx, cj, status, now);
      let requeueMs: number | undefined;
      let failure: unknown;
      try {
        requeueMs = await sync.run(jobs);
      } catch (err) {
        failure = err;
      }
      await sync.cleanupFinishedJobs(jobs);
      if (JSON.stringify(status) !== before) await ctx.store.updateStatus('CronJob', namespace, name, tidy(status), { shared: true });
      if (failure !== undefined) throw failure;
      return requeueMs === undefined ? undefined : { requeueAfterMs: Math.max(1, Math.ceil(requeueMs / rate)) };
    },
  };

  class CronJobSync {
    constructor(private readonly ctx: ControllerContext, private readonly cj: KubeObject, private readonly status: Obj, private readonly now: Date) {}

    private get active(): Obj[] {
      return (this.status.active ??= []);
    }

    /** Returns when to look again (clock ms), or undefined when only a change will tell. */
    async run(jobs: KubeObject[]): Promise<number | undefined> {
      const { ctx, cj, status, now } = this;
      const children = new Set(jobs.map((j) => j.metadata.uid));
      for (const j of jobs) {
        const inActive = this.active.some((r) => r.uid === j.metadata.uid);
        const finished = finishedType(j);
        if (!inActive && !finished) {
          await event(ctx, cj, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${j.metadata.name}`);
        } else if (inActive && finished) {
          status.active = this.active.filter((r) => r.uid !== j.metadata.uid);
          await event(ctx, cj, 'Normal', 'SawCompletedJob', `Saw completed job: ${j.metadata.name}, condition: ${finished}`);
        }
        if (finished === 'Complete' && j.status?.completionTime && (!status.lastSuccessfulTime || Date.parse(j.status.completionTime) > Date.parse(status.lastSuccessfulTime))) {
          status.lastSuccessfulTime = j.status.completionTime;
        }
      }
      // An active Job that no longer exists (checked in the store, not only the cache) leaves the list.
      for (const ref of [...this.active]) {
        if (children.has(ref.uid)) continue;
        const j = await ctx.store.get('Job', ref.namespace, ref.name);
        if (j && j.metadata.uid === ref.uid) continue;
        status.active = this.active.filter((r) => r.uid !== ref.uid);
        await event(ctx, cj, 'Normal', 'MissingJob', `Active job went missing: ${ref.name}`);
      }

      const spec = cj.spec ?? {};
      const tz: string | undefined = spec.timeZone ?? undefined;
      if (tz !== undefined) {
        const bad = checkTimeZone(tz);
        if (bad) {
          await event(ctx, cj, 'Warning', 'UnknownTimeZone', `invalid timeZone: "${tz}": ${bad}`);
          return undefined;
        }
      }
      if (spec.suspend === true) return undefined;
      let schedule: Schedule;
      try {
        schedule = parseSchedule(String(spec.schedule ?? ''), tz);
      } catch (err) {
        await event(ctx, cj, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${spec.schedule}" : ${(err as Error).message}`);
        return undefined;
      }
      let scheduled: Date | undefined;
      try {
        const { mostRecent, missed } = mostRecentScheduleTime(cj, now, schedule, true);
        if (mostRecent && mostRecent <= now) {
          scheduled = mostRecent;
          if (missed > 100) {
            await event(ctx, cj, 'Warning', 'TooManyMissedTimes', `too many missed start times: ${missed}. Set or decrease .spec.startingDeadlineSeconds or check clock skew`);
          }
        }
      } catch (err) {
        await event(ctx, cj, 'Warning', 'InvalidSchedule', `invalid schedule: ${spec.schedule} : ${(err as Error).message}`);
        return undefined;
      }
      const next = () => this.nextScheduleIn(schedule);
      if (!scheduled) return next();

      const sds = spec.startingDeadlineSeconds;
      if (typeof sds === 'number' && scheduled.getTime() + sds * 1000 < now.getTime()) {
        await event(ctx, cj, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(scheduled)}`);
        return next();
      }
      const jobName = jobNameFor(cj.metadata.name, scheduled);
      if (this.active.some((r) => r.name === jobName) || (status.lastScheduleTime && Date.parse(status.lastScheduleTime) === scheduled.getTime())) return next();
      const policy = spec.concurrencyPolicy ?? 'Allow';
      if (policy === 'Forbid' && this.active.length > 0) {
        await event(ctx, cj, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
        return next();
      }
      if (policy === 'Replace') {
        for (const ref of [...this.active]) {
          const j = await ctx.store.get('Job', ref.namespace, ref.name);
          if (j && j.metadata.uid === ref.uid) {
            await ctx.store.delete('Job', ref.namespace, ref.name); // its pods go with it, through the garbage collector
            await event(ctx, cj, 'Normal', 'SuccessfulDelete', `Deleted job ${ref.name}`);
          }
          status.active = this.active.filter((r) => r.uid !== ref.uid);
        }
      }

      let job: KubeObject;
      try {
        job = await ctx.store.create(this.jobFor(jobName, scheduled, tz));
        await event(ctx, cj, 'Normal', 'SuccessfulCreate', `Created job ${jobName}`);
      } catch (err) {
        const existing = await ctx.store.get('Job', cj.metadata.namespace, jobName);
        if (!existing) {
          await event(ctx, cj, 'Warning', 'FailedCreate', `Error creating job: ${(err as Error).message}`);
          throw err;
        }
        // Already there: created by an earlier sync whose status write was lost. Only one of ours is taken in.
        if (controllerOf(existing)?.uid !== cj.metadata.uid || this.active.some((r) => r.uid === existing.metadata.uid)) return next();
        job = existing;
      }
      this.active.push({ apiVersion: 'batch/v1', kind: 'Job', name: job.metadata.name, namespace: job.metadata.namespace, resourceVersion: job.metadata.resourceVersion, uid: job.metadata.uid });
      status.lastScheduleTime = isoSeconds(scheduled);
      return next();
    }

    /** Clock ms until the next activation after the last one (Kubernetes' nextScheduleTimeDuration). */
    private nextScheduleIn(schedule: Schedule): number | undefined {
      const view = { ...this.cj, status: this.status };
      const { earliest, mostRecent } = mostRecentScheduleTime(view, this.now, schedule, false);
      const t = schedule.next(mostRecent ?? earliest);
      return t ? t.getTime() + NEXT_SCHEDULE_DELTA_MS - this.now.getTime() : undefined;
    }

    private jobFor(name: string, scheduled: Date, tz: string | undefined): KubeObject {
      const template = this.cj.spec?.jobTemplate ?? {};
      const metadata: Obj = {
        name, namespace: this.cj.metadata.namespace, ownerReferences: [ownerRefTo(this.cj)],
        annotations: { ...template.metadata?.annotations, [SCHEDULED_TIMESTAMP_ANNOTATION]: rfc3339In(scheduled, tz) },
      };
      if (template.metadata?.labels) metadata.labels = { ...template.metadata.labels };
      return { apiVersion: 'batch/v1', kind: 'Job', metadata: metadata as KubeObject['metadata'], spec: structuredClone(template.spec ?? {}) };
    }

    /** Deletes the oldest finished Jobs beyond successfulJobsHistoryLimit (3) and failedJobsHistoryLimit (1). */
    async cleanupFinishedJobs(jobs: KubeObject[]): Promise<void> {
      const spec = this.cj.spec ?? {};
      const limits = { Complete: spec.successfulJobsHistoryLimit ?? 3, Failed: spec.failedJobsHistoryLimit ?? 1 };
      for (const type of ['Complete', 'Failed'] as const) {
        const done = jobs.filter((j) => finishedType(j) === type).sort(byStartTime);
        for (const j of done.slice(0, Math.max(0, done.length - limits[type]))) {
          const gone = await this.ctx.store.delete('Job', j.metadata.namespace, j.metadata.name);
          if (gone) await event(this.ctx, this.cj, 'Normal', 'SuccessfulDelete', `Deleted job ${j.metadata.name}`);
          this.status.active = this.active.filter((r) => r.uid !== j.metadata.uid);
        }
      }
    }
  }

  return spec;
}

/** Oldest start first; Jobs that never started last; the name breaks ties (Kubernetes' byJobStartTime). */
function byStartTime(a: KubeObject, b: KubeObject): number {
  const sa = a.status?.startTime, sb = b.status?.startTime;
  if (!sa || !sb) return sa ? -1 : sb ? 1 : compareText(a.metadata.name, b.metadata.name);
  return Date.parse(sa) - Date.parse(sb) || compareText(a.metadata.name, b.metadata.name);
}

/** Status as Kubernetes writes it: an empty active list is left out. */
function tidy(status: Obj): Obj {
  const out = { ...status };
  if (!out.active?.length) delete out.active;
  return out;
}

async function event(ctx: ControllerContext, obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid };
  try {
    await ctx.store.recordEvent(ref, type, reason, message);
  } catch (err) {
    ctx.log(`cronjob: event ${reason} for ${keyOf(obj)}: ${(err as Error)?.message ?? err}`);
  }
}
