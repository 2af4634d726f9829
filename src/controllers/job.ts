// The Job controller, after kube-controller-manager's (batch/v1, Kubernetes 1.32): runs pods until `completions`
// succeed (or, without completions, until one does), `parallelism` at a time; replaces failed pods after the
// pod-failure backoff until `backoffLimit`; honours activeDeadlineSeconds, suspend, Indexed completion,
// podFailurePolicy and successPolicy; writes the status and conditions Kubernetes writes (SuccessCriteriaMet or
// FailureTarget first, Complete or Failed once no pod of the Job is still terminating).
//
// Counting follows Kubernetes' tracking with the `batch.kubernetes.io/job-tracking` finalizer: a finished pod is
// first listed in status.uncountedTerminatedPods, then loses the finalizer, then moves into succeeded/failed, so a
// pod is counted once across restarts. convergit's store does not hold objects back for finalizers; a pod that
// is removed while still carrying it (another component deleted it) is remembered from its last version and
// counted as failed, as Kubernetes counts a deleted pod.
import type { KubeObject, ObjectRef } from '../model/object.ts';
import { getCondition, type Condition } from '../model/conditions.ts';
import { controllerOf, isPodReady, ownerRefTo } from '../model/pod.ts';
import { isoSeconds } from '../model/time.ts';
import { keyOf, splitKey } from '../model/key.ts';
import { StoreError } from '../store/store.ts';
import type { ControllerContext, ControllerSpec, SyncResult } from './controller.ts';
import { Expectations } from './expectations.ts';
import { generateName } from './pod-from-template.ts';
import { podsToDelete } from './scale-down.ts';
import { nextBackoffRecord, remainingBackoffMs, type BackoffRecord, type BackoffTimings } from './job-backoff.ts';
import {
  COMPLETION_INDEX_ANNOTATION, completionIndexOf, firstPendingIndexes, formatIndexes, hasIndex, parseIndexes, totalOf, withIndexes, type Interval,
} from './job-indexes.ts';
import { matchPodFailurePolicy, matchSuccessPolicy } from './job-pod-failure-policy.ts';
import { invalidJob, isJobFinished, jobParams, type JobParams } from './job-params.ts';

export { invalidJob, isJobFinished, jobParams };

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const CONTROLLER_UID_LABEL = 'batch.kubernetes.io/controller-uid';
export const JOB_NAME_LABEL = 'batch.kubernetes.io/job-name';
const COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';

export interface JobControllerOptions {
  /** The delay before replacing failed pods: base doubling per failure up to max. Default 10 s and 6 min. */
  podFailureBackoff?: Partial<BackoffTimings>;
  /** Pods created or deleted by one sync. Default 500, Kubernetes' MaxPodCreateDeletePerSync. */
  maxPodsPerSync?: number;
  /** For tests: the expectations to use. */
  expectations?: Expectations;
}

type Obj = Record<string, any>;
interface Uncounted { succeeded?: string[]; failed?: string[] }

const isPodTerminal = (p: KubeObject) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const isActive = (p: KubeObject) => !isPodTerminal(p) && !p.metadata.deletionTimestamp;
const isTerminating = (p: KubeObject) => !!p.metadata.deletionTimestamp && !isPodTerminal(p);
const hasFinalizer = (p: KubeObject) => ((p.metadata as Obj).finalizers ?? []).includes(JOB_TRACKING_FINALIZER);
const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** A pod counts as failed when Failed, or (unless only failed pods are replaced) deleted before it succeeded. */
const isPodFailed = (p: KubeObject, params: JobParams) =>
  p.status?.phase === 'Failed' || (!params.onlyReplaceFailed && !!p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded');

function jobCondition(type: string, reason: string, message: string, now: string): Condition {
  return { type, status: 'True', reason, message, lastProbeTime: now, lastTransitionTime: now };
}

/** Kubernetes' ensureJobConditionStatus: a condition is rewritten only when status, reason or message change; a False one is never added. */
function ensureCondition(list: Condition[], type: string, status: 'True' | 'False', reason: string, message: string, now: string): { list: Condition[]; changed: boolean } {
  const i = list.findIndex((c) => c.type === type);
  if (i >= 0) {
    const c = list[i];
    if (c.status === status && c.reason === reason && c.message === message) return { list, changed: false };
    const next = [...list];
    next[i] = { type, status, reason, message, lastProbeTime: now, lastTransitionTime: now };
    return { list: next, changed: true };
  }
  if (status === 'False') return { list, changed: false };
  return { list: [...list, { type, status, reason, message, lastProbeTime: now, lastTransitionTime: now }], changed: true };
}

/** `<job>-<index>-`, the job name cut so that the generated name stays within 63 characters. */
function indexedPrefix(jobName: string, index: number): string {
  const tail = `-${index}-`;
  return jobName.slice(0, 58 - tail.length) + tail;
}

export function jobController(opts: JobControllerOptions = {}): ControllerSpec {
  const expectations = opts.expectations ?? new Expectations();
  const timings: BackoffTimings = { baseMs: opts.podFailureBackoff?.baseMs ?? 10_000, maxMs: opts.podFailureBackoff?.maxMs ?? 360_000 };
  const maxPerSync = opts.maxPodsPerSync ?? 500;
  const backoff = new Map<string, BackoffRecord>();
  /** Pods whose finalizer this controller removed and whose update the cache has not shown yet (Kubernetes' finalizerExpectations). */
  const finalizerRemovals = new Map<string, Set<string>>();
  /** Pods removed from the store while still carrying the tracking finalizer: counted from their last version. */
  const vanished = new Map<string, Map<string, KubeObject>>();

  const pendingRemovals = (key: string) => finalizerRemovals.get(key) ?? new Set<string>();

  const spec: ControllerSpec = {
    name: 'job',
    kinds: ['Job', 'Pod'],

    watch(ctx, enqueue) {
      const jobs = ctx.informer('Job');
      const ownerKey = (pod: KubeObject): string | undefined => {
        const ref = controllerOf(pod);
        if (ref?.kind !== 'Job') return undefined;
        const job = jobs.get(pod.metadata.namespace, ref.name);
        return job && job.metadata.uid === ref.uid ? keyOf(job) : undefined;
      };
      jobs.on({ add: (j) => enqueue(keyOf(j)), update: (_o, j) => enqueue(keyOf(j)), delete: (j) => enqueue(keyOf(j)) });
      ctx.informer('Pod').on({
        add(pod) {
          const key = ownerKey(pod);
          if (!key) return;
          if (pod.metadata.deletionTimestamp) expectations.deletionObserved(key, pod.metadata.name);
          else expectations.creationObserved(key, pod.metadata.name);
          enqueue(key);
        },
        update(_old, pod) {
          const key = ownerKey(pod);
          if (!key) return;
          expectations.creationObserved(key, pod.metadata.name);
          if (pod.metadata.deletionTimestamp) expectations.deletionObserved(key, pod.metadata.name);
          if (!hasFinalizer(pod)) finalizerRemovals.get(key)?.delete(pod.metadata.uid!);
          enqueue(key);
        },
        delete(pod) {
          const key = ownerKey(pod);
          if (!key) return;
          expectations.deletionObserved(key, pod.metadata.name);
          const removing = finalizerRemovals.get(key);
          if (hasFinalizer(pod) && !removing?.has(pod.metadata.uid!)) {
            const lost = vanished.get(key) ?? new Map<string, KubeObject>();
            // Removed without being counted: as Kubernetes would see it, a deleted pod.
            const last = structuredClone(pod);
            last.metadata.deletionTimestamp ??= isoSeconds(ctx.now());
            lost.set(pod.metadata.uid!, last);
            vanished.set(key, lost);
          }
          removing?.delete(pod.metadata.uid!);
          enqueue(key);
        },
      });
    },

    async sync(key, ctx): Promise<SyncResult> {
      const { namespace, name } = splitKey(key);
      // The store, not the cache: status writes carry no precondition, so counting must start from the latest counts.
      const job = ctx.informer('Job').get(namespace, name) && (await ctx.store.get('Job', namespace, name));
      if (!job) {
        expectations.delete(key);
        backoff.delete(key);
        finalizerRemovals.delete(key);
        vanished.delete(key);
        return;
      }
      if (isJobFinished(job)) {
        backoff.delete(key);
        // Pods still carrying the finalizer (a crash between the last two writes) are released; they are counted.
        await removeFinalizers(ctx, key, ctx.informer('Pod').list(namespace).filter((p) => controllerOf(p)?.uid === job.metadata.uid && hasFinalizer(p)));
        vanished.delete(key);
        return;
      }
      const invalid = invalidJob(job);
      if (invalid) {
        await event(ctx, job, 'Warning', 'FailedCreate', `Error creating: Pod "${name}" is invalid: ${invalid}`);
        return;
      }
      return new JobSync(ctx, key, job).run();
    },
  };

  /** One reconcile of one Job, in the order of Kubernetes' syncJob. */
  class JobSync {
    private readonly p: JobParams;
    private readonly status: Obj;
    private readonly now: Date;
    private readonly nowIso: string;
    private requeueMs: number | undefined;

    constructor(private readonly ctx: ControllerContext, private readonly key: string, private readonly job: KubeObject) {
      this.p = jobParams(job.spec);
      this.status = structuredClone(job.status ?? {});
      this.now = ctx.now();
      this.nowIso = isoSeconds(this.now);
    }

    private requeue(ms: number): void {
      const at = Math.max(ms, 1);
      this.requeueMs = this.requeueMs === undefined ? at : Math.min(this.requeueMs, at);
    }

    async run(): Promise<SyncResult> {
      const { ctx, key, job, p, status } = this;
      const uid = job.metadata.uid!;
      const removing = pendingRemovals(key);
      const satisfied = expectations.satisfied(key);
      const live = ctx.informer('Pod').list(job.metadata.namespace ?? 'default').filter((pod) => controllerOf(pod)?.uid === uid);
      const liveUids = new Set(live.map((pod) => pod.metadata.uid));
      const pods = [...live, ...[...(vanished.get(key)?.values() ?? [])].filter((pod) => !liveUids.has(pod.metadata.uid))];
      const activePods = pods.filter(isActive);
      let active = activePods.length;
      let ready = activePods.filter(isPodReady).length;
      let terminating = pods.filter(isTerminating).length;
      const uncounted: Uncounted = status.uncountedTerminatedPods ?? {};
      const uncSucceeded = new Set(uncounted.succeeded ?? []);
      const uncFailed = new Set(uncounted.failed ?? []);

      // Pods finished since the last count: they still carry the finalizer and are not listed as uncounted.
      const fresh = (pod: KubeObject, set: Set<string>) => {
        if (!hasFinalizer(pod) || set.has(pod.metadata.uid!) || removing.has(pod.metadata.uid!)) return false;
        if (!p.indexed) return true;
        const ix = completionIndexOf(pod.metadata.annotations);
        return ix !== undefined && ix < p.completions!;
      };
      const newSucceeded = pods.filter((pod) => fresh(pod, uncSucceeded) && pod.status?.phase === 'Succeeded');
      const newFailed = pods.filter((pod) => fresh(pod, uncFailed) && isPodFailed(pod, p));
      let succeeded = (status.succeeded ?? 0) + newSucceeded.length + uncSucceeded.size;
      const failed = (status.failed ?? 0) + newFailed.filter((pod) => matchPodFailurePolicy(p.podFailurePolicy, pod).countFailed).length + uncFailed.size;

      if (!status.startTime && !p.suspend) status.startTime = this.nowIso;
      const backoffRecord = nextBackoffRecord(backoff.get(key), newSucceeded, newFailed);

      // What ends the Job, in Kubernetes' order of precedence.
      let finished: Condition | undefined = getCondition(status.conditions, 'SuccessCriteriaMet')?.status === 'True' ? getCondition(status.conditions, 'SuccessCriteriaMet') : undefined;
      if (!finished) {
        const target = getCondition(status.conditions, 'FailureTarget');
        if (target?.status === 'True') finished = jobCondition('Failed', target.reason ?? '', target.message ?? '', this.nowIso);
        else {
          const msg = pods.filter((pod) => isPodFailed(pod, p)).map((pod) => matchPodFailurePolicy(p.podFailurePolicy, pod).failJobMessage).find(Boolean);
          if (msg) finished = jobCondition('FailureTarget', 'PodFailurePolicy', msg, this.nowIso);
        }
      }
      if (!finished) {
        if (failed > p.backoffLimit || this.pastBackoffLimitOnFailure(pods)) {
          finished = jobCondition('FailureTarget', 'BackoffLimitExceeded', 'Job has reached the specified backoff limit', this.nowIso);
        } else if (this.pastActiveDeadline()) {
          finished = jobCondition('FailureTarget', 'DeadlineExceeded', 'Job was active longer than specified deadline', this.nowIso);
        } else if (p.activeDeadlineSeconds !== undefined && !p.suspend && status.startTime) {
          this.requeue(p.activeDeadlineSeconds * 1000 - (this.now.getTime() - Date.parse(status.startTime)));
        }
      }

      let prevIndexes: Interval[] = [];
      let succeededIndexes: Interval[] = [];
      if (p.indexed) {
        prevIndexes = parseIndexes(status.completedIndexes, p.completions!);
        succeededIndexes = withIndexes(prevIndexes, newSucceeded.map((pod) => completionIndexOf(pod.metadata.annotations)!));
        succeeded = totalOf(succeededIndexes);
        if (!finished) {
          const msg = matchSuccessPolicy(p.successPolicy, p.completions!, succeededIndexes);
          if (msg) finished = jobCondition('SuccessCriteriaMet', 'SuccessPolicy', msg, this.nowIso);
        }
      }

      if (finished) {
        // Whatever ends the Job stops its running pods (a success policy too); it is declared only once all are stopped.
        const { deleted, deletedReady } = await this.deletePods(activePods, false);
        if (deleted !== active || !satisfied) finished = undefined;
        active -= deleted;
        terminating += deleted;
        ready -= deletedReady;
      } else {
        let manageCalled = false;
        if (satisfied) {
          ({ active, ready, terminating } = await this.manage(activePods, pods, succeeded, succeededIndexes, backoffRecord, { active, ready, terminating }));
          manageCalled = true;
        }
        const complete = p.completions === undefined ? succeeded > 0 && active === 0 : succeeded >= p.completions && active === 0;
        if (complete) {
          finished = jobCondition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', this.nowIso);
        } else if (manageCalled) {
          const r = p.suspend
            ? ensureCondition(status.conditions ?? [], 'Suspended', 'True', 'JobSuspended', 'Job suspended', this.nowIso)
            : ensureCondition(status.conditions ?? [], 'Suspended', 'False', 'JobResumed', 'Job resumed', this.nowIso);
          if (r.changed) {
            status.conditions = r.list;
            await event(ctx, job, 'Normal', p.suspend ? 'Suspended' : 'Resumed', p.suspend ? 'Job suspended' : 'Job resumed');
            // A resumed Job's deadline counts from now, as for a Job created suspended.
            if (!p.suspend) status.startTime = this.nowIso;
          }
        }
      }

      status.active = active;
      status.ready = ready;
      status.terminating = terminating;
      await this.track(pods, finished, prevIndexes, succeededIndexes, backoffRecord);
      return this.requeueMs === undefined ? undefined : { requeueAfterMs: this.requeueMs };
    }

    /** The sum of container restarts of running pods reached backoffLimit (restartPolicy OnFailure only). */
    private pastBackoffLimitOnFailure(pods: KubeObject[]): boolean {
      if (this.job.spec?.template?.spec?.restartPolicy !== 'OnFailure') return false;
      let restarts = 0;
      for (const pod of pods) {
        if (pod.status?.phase !== 'Running' && pod.status?.phase !== 'Pending') continue;
        for (const c of [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])]) restarts += c.restartCount ?? 0;
      }
      return this.p.backoffLimit === 0 ? restarts > 0 : restarts >= this.p.backoffLimit;
    }

    private pastActiveDeadline(): boolean {
      const { activeDeadlineSeconds: ads } = this.p;
      if (ads === undefined || !this.status.startTime || this.p.suspend) return false;
      return this.now.getTime() - Date.parse(this.status.startTime) >= ads * 1000;
    }

    /** Creates or deletes pods towards the wanted number of active ones; returns the counts after. */
    private async manage(activePods: KubeObject[], pods: KubeObject[], succeeded: number, succeededIndexes: Interval[], rec: BackoffRecord,
      counts: { active: number; ready: number; terminating: number }): Promise<{ active: number; ready: number; terminating: number }> {
      const { p } = this;
      let { active, ready, terminating } = counts;
      if (p.suspend) {
        // Suspending stops the running pods without counting them as failures.
        const r = await this.deletePods(activePods, true);
        return { active: active - r.deleted, ready: ready - r.deletedReady, terminating: terminating + r.deleted };
      }
      let want: number;
      if (p.completions === undefined) want = succeeded > 0 ? active : p.parallelism;
      else want = Math.max(0, Math.min(p.completions - succeeded, p.parallelism));

      const excess = this.podsForRemoval(activePods, Math.max(0, active - want)).slice(0, maxPerSync);
      if (excess.length) {
        const r = await this.deletePods(excess, true);
        return { active: active - r.deleted, ready: ready - r.deletedReady, terminating: terminating + r.deleted };
      }

      const waitFor = p.onlyReplaceFailed ? pods.filter(isTerminating).length : 0;
      let diff = Math.min(want - waitFor - active, maxPerSync);
      if (diff <= 0) return { active, ready, terminating };
      const wait = remainingBackoffMs(rec, this.now.getTime(), timings);
      if (wait > 0) {
        this.requeue(wait);
        return { active, ready, terminating };
      }
      let indexes: number[] = [];
      if (p.indexed) {
        const taken = activePods.map((pod) => completionIndexOf(pod.metadata.annotations)).filter((i): i is number => i !== undefined);
        indexes = firstPendingIndexes(succeededIndexes, taken, diff, p.completions!);
        diff = indexes.length;
      }
      const created = await this.createPods(diff, indexes);
      return { active: active + created, ready, terminating };
    }

    /** For an Indexed Job, duplicates and pods without a valid index go first; then Kubernetes' ActivePods order. */
    private podsForRemoval(activePods: KubeObject[], atLeast: number): KubeObject[] {
      const rm: KubeObject[] = [];
      let left = activePods;
      if (this.p.indexed) {
        left = [];
        const byIndex = new Map<number, KubeObject[]>();
        for (const pod of activePods) {
          const ix = completionIndexOf(pod.metadata.annotations);
          if (ix === undefined || ix >= this.p.completions!) rm.push(pod);
          else byIndex.set(ix, [...(byIndex.get(ix) ?? []), pod]);
        }
        for (const same of byIndex.values()) {
          const ordered = podsToDelete(same, same.length); // the most established last: it is the one kept
          rm.push(...ordered.slice(0, -1));
          left.push(ordered[ordered.length - 1]);
        }
      }
      if (rm.length < atLeast) rm.push(...podsToDelete(left, atLeast - rm.length));
      return rm;
    }

    /** Creates `count` pods (with these completion indexes when Indexed) in batches of 1, 2, 4 … stopping at a failing batch. */
    private async createPods(count: number, indexes: number[]): Promise<number> {
      const { ctx, job, key } = this;
      const planned = Array.from({ length: count }, (_, i) => {
        const ix = this.p.indexed ? indexes[i] : undefined;
        return { ix, name: generateName(ix === undefined ? `${job.metadata.name}-` : indexedPrefix(job.metadata.name, ix)) };
      });
      expectations.expectCreations(key, planned.map((x) => x.name));
      let created = 0;
      let firstError: unknown;
      for (let batch = 1; planned.length && firstError === undefined; batch *= 2) {
        await Promise.all(planned.splice(0, batch).map(async ({ ix, name }) => {
          try {
            await ctx.store.create(this.podFor(name, ix));
            created++;
            await event(ctx, job, 'Normal', 'SuccessfulCreate', `Created pod: ${name}`);
          } catch (err) {
            expectations.creationObserved(key, name);
            firstError ??= err;
            await event(ctx, job, 'Warning', 'FailedCreate', `Error creating: ${errorText(err)}`);
          }
        }));
      }
      for (const skipped of planned) expectations.creationObserved(key, skipped.name);
      if (firstError !== undefined) throw firstError;
      return created;
    }

    /** The Job's pod: its template with the Job's labels, the tracking finalizer and, when Indexed, the index. */
    private podFor(name: string, ix: number | undefined): KubeObject {
      const { job } = this;
      const template = job.spec?.template ?? {};
      const jobName = job.metadata.name;
      const labels: Record<string, string> = {
        ...template.metadata?.labels,
        [CONTROLLER_UID_LABEL]: job.metadata.uid!, [JOB_NAME_LABEL]: jobName, 'controller-uid': job.metadata.uid!, 'job-name': jobName,
      };
      const annotations: Record<string, string> = { ...template.metadata?.annotations };
      const spec = structuredClone(template.spec ?? {});
      if (ix !== undefined) {
        annotations[COMPLETION_INDEX_ANNOTATION] = String(ix);
        labels[COMPLETION_INDEX_ANNOTATION] = String(ix);
        spec.hostname = `${jobName}-${ix}`;
        // As Kubernetes does: the index reaches the containers through the downward API, which the node resolves.
        for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
          if ((c.env ?? []).some((e: Obj) => e.name === COMPLETION_INDEX_ENV)) continue;
          c.env = [...(c.env ?? []), { name: COMPLETION_INDEX_ENV, valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX_ANNOTATION}']` } } }];
        }
      }
      const metadata: Obj = { name, generateName: name.slice(0, -5), namespace: job.metadata.namespace, labels, ownerReferences: [ownerRefTo(job)], finalizers: [JOB_TRACKING_FINALIZER] };
      if (Object.keys(annotations).length) metadata.annotations = annotations;
      return { apiVersion: 'v1', kind: 'Pod', metadata: metadata as KubeObject['metadata'], spec };
    }

    /**
     * Deletes pods (bound ones are marked and stopped by their node). `uncount` removes the tracking finalizer first,
     * so the pod is not counted as failed (suspend, too many pods); otherwise it is counted when seen terminating.
     */
    private async deletePods(pods: KubeObject[], uncount: boolean): Promise<{ deleted: number; deletedReady: number }> {
      const { ctx, job, key } = this;
      if (!pods.length) return { deleted: 0, deletedReady: 0 };
      expectations.expectDeletions(key, pods.map((pod) => pod.metadata.name));
      let deleted = 0, deletedReady = 0;
      let firstError: unknown;
      await Promise.all(pods.map(async (pod) => {
        try {
          if (uncount) await removeFinalizers(ctx, key, [pod]);
          const gone = await ctx.store.delete('Pod', pod.metadata.namespace, pod.metadata.name);
          if (!gone) expectations.deletionObserved(key, pod.metadata.name);
          else await event(ctx, job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
          deleted++;
          if (isPodReady(pod)) deletedReady++;
        } catch (err) {
          expectations.deletionObserved(key, pod.metadata.name);
          firstError ??= err;
          await event(ctx, job, 'Warning', 'FailedDelete', `Error deleting: ${errorText(err)}`);
        }
      }));
      if (firstError !== undefined) throw firstError;
      return { deleted, deletedReady };
    }

    /**
     * Kubernetes' trackJobStatusAndRemoveFinalizers: lists finished pods as uncounted (written first), removes
     * their finalizers, moves them into the counters, then adds Complete or Failed when nothing is left to count
     * or still terminating.
     */
    private async track(pods: KubeObject[], finished: Condition | undefined, prevIndexes: Interval[], succeededIndexes: Interval[], rec: BackoffRecord): Promise<void> {
      const { ctx, key, job, p, status } = this;
      const removing = pendingRemovals(key);
      const unc = { succeeded: [...(status.uncountedTerminatedPods?.succeeded ?? [])] as string[], failed: [...(status.uncountedTerminatedPods?.failed ?? [])] as string[] };
      const withFinalizer = new Set(pods.filter((pod) => hasFinalizer(pod) && !removing.has(pod.metadata.uid!)).map((pod) => pod.metadata.uid!));
      const successTarget = finished?.type === 'SuccessCriteriaMet';
      const toRelease: KubeObject[] = [];
      const newIndexes: number[] = [];
      for (const pod of pods) {
        const uid = pod.metadata.uid!;
        if (!withFinalizer.has(uid)) continue;
        const failedNow = isPodFailed(pod, p);
        if (!finished && pod.status?.phase !== 'Succeeded' && !failedNow) continue;
        toRelease.push(pod);
        const ix = completionIndexOf(pod.metadata.annotations);
        if (pod.status?.phase === 'Succeeded' && !unc.failed.includes(uid)) {
          if (p.indexed) {
            if (ix !== undefined && ix < p.completions! && !hasIndex(prevIndexes, ix)) newIndexes.push(ix);
          } else if (!unc.succeeded.includes(uid)) unc.succeeded.push(uid);
        } else if (failedNow || (finished && !successTarget)) {
          // Once the Job has failed, every pod not yet finished counts as failed.
          if (!unc.failed.includes(uid) && (!p.indexed || (ix !== undefined && ix < p.completions!)) && matchPodFailurePolicy(p.podFailurePolicy, pod).countFailed) unc.failed.push(uid);
        }
      }
      if (p.indexed) {
        const all = withIndexes(succeededIndexes, newIndexes);
        status.succeeded = totalOf(all);
        status.completedIndexes = formatIndexes(all);
      }
      status.uncountedTerminatedPods = { ...(unc.succeeded.length && { succeeded: unc.succeeded }), ...(unc.failed.length && { failed: unc.failed }) };
      // The interim condition comes first, recorded with the pods still to count; the terminal one follows.
      let terminal: Condition | undefined;
      if (finished?.type === 'FailureTarget' || finished?.type === 'SuccessCriteriaMet') {
        if (getCondition(status.conditions, finished.type)?.status !== 'True') status.conditions = [...(status.conditions ?? []), finished];
        terminal = jobCondition(finished.type === 'FailureTarget' ? 'Failed' : 'Complete', finished.reason ?? '', finished.message ?? '', this.nowIso);
      } else terminal = finished;

      await this.writeStatus();
      backoff.set(key, rec);

      const released = await removeFinalizers(ctx, key, toRelease);
      // Count what lost its finalizer: uncounted UIDs whose pod no longer carries it (or is gone).
      for (const uid of released) withFinalizer.delete(uid);
      const keepS = unc.succeeded.filter((u) => withFinalizer.has(u));
      const keepF = unc.failed.filter((u) => withFinalizer.has(u));
      if (!p.indexed) status.succeeded = (status.succeeded ?? 0) + unc.succeeded.length - keepS.length;
      status.failed = (status.failed ?? 0) + unc.failed.length - keepF.length;
      status.uncountedTerminatedPods = { ...(keepS.length && { succeeded: keepS }), ...(keepF.length && { failed: keepF }) };
      const lost = vanished.get(key);
      if (lost) for (const uid of released) lost.delete(uid);

      let done = false;
      if (terminal && !keepS.length && !keepF.length && (status.terminating ?? 0) === 0) {
        status.conditions = ensureCondition(status.conditions ?? [], terminal.type, 'True', terminal.reason ?? '', terminal.message ?? '', this.nowIso).list;
        if (terminal.type === 'Complete') status.completionTime = this.nowIso;
        done = true;
      }
      await this.writeStatus();
      if (!done) return;
      if (terminal!.type === 'Complete') {
        if (p.completions !== undefined && status.succeeded > p.completions) await event(ctx, job, 'Warning', 'TooManySucceededPods', 'Too many succeeded pods running after completion count reached');
        await event(ctx, job, 'Normal', 'Completed', 'Job completed');
      } else {
        await event(ctx, job, 'Warning', terminal!.reason ?? 'Failed', terminal!.message ?? '');
      }
    }

    /** Writes the status in Kubernetes' shape: zero counters left out, ready and terminating always present. */
    private async writeStatus(): Promise<void> {
      const s = this.status;
      const out: Obj = {};
      if (s.conditions?.length) out.conditions = s.conditions;
      if (s.startTime) out.startTime = s.startTime;
      if (s.completionTime) out.completionTime = s.completionTime;
      for (const k of ['active', 'succeeded', 'failed']) if (s[k]) out[k] = s[k];
      out.terminating = s.terminating ?? 0;
      if (s.completedIndexes) out.completedIndexes = s.completedIndexes;
      out.uncountedTerminatedPods = s.uncountedTerminatedPods ?? {};
      out.ready = s.ready ?? 0;
      await this.ctx.store.updateStatus('Job', this.job.metadata.namespace, this.job.metadata.name, out, { shared: true });
    }
  }

  /** Removes the tracking finalizer from each pod; returns the UIDs now without it (or gone). */
  async function removeFinalizers(ctx: ControllerContext, key: string, pods: KubeObject[]): Promise<string[]> {
    const done: string[] = [];
    const lost = vanished.get(key);
    let firstError: unknown;
    await Promise.all(pods.map(async (pod) => {
      const uid = pod.metadata.uid!;
      if (lost?.has(uid)) { done.push(uid); return; } // already gone: nothing to remove
      const set = finalizerRemovals.get(key) ?? new Set<string>();
      finalizerRemovals.set(key, set);
      set.add(uid);
      try {
        for (let attempt = 0; ; attempt++) {
          const cur = await ctx.store.get('Pod', pod.metadata.namespace, pod.metadata.name);
          if (!cur || cur.metadata.uid !== uid || !hasFinalizer(cur)) break;
          const next = structuredClone(cur) as KubeObject & { metadata: Obj };
          next.metadata.finalizers = next.metadata.finalizers.filter((f: string) => f !== JOB_TRACKING_FINALIZER);
          if (!next.metadata.finalizers.length) delete next.metadata.finalizers;
          try {
            await ctx.store.update(next);
            break;
          } catch (err) {
            if (err instanceof StoreError && err.reason === 'NotFound') break;
            if (!(err instanceof StoreError && err.reason === 'Conflict') || attempt >= 5) throw err;
          }
        }
        done.push(uid);
      } catch (err) {
        set.delete(uid);
        firstError ??= err;
      }
    }));
    if (firstError !== undefined) throw firstError;
    return done;
  }

  return spec;
}

/** Events never fail a sync: they are for people, not for convergence. */
async function event(ctx: ControllerContext, obj: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): Promise<void> {
  const ref: ObjectRef = { apiVersion: obj.apiVersion, kind: obj.kind, namespace: obj.metadata.namespace, name: obj.metadata.name, uid: obj.metadata.uid };
  try {
    await ctx.store.recordEvent(ref, type, reason, message);
  } catch (err) {
    ctx.log(`${obj.kind.toLowerCase()}: event ${reason} for ${keyOf(obj)}: ${errorText(err)}`);
  }
}

