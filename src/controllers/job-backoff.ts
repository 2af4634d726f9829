// The Job controller's delay before replacing failed pods: 10 s after the first failure since the last success,
// doubling with each further one up to a ceiling, counted from the last failure (Kubernetes' backoffRecord).
// Kept in memory per Job, as kube-controller-manager keeps it: a restart forgets it and replaces pods at once.
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';

export interface BackoffRecord {
  failuresAfterLastSuccess: number;
  lastFailureTime?: number;
}

export interface BackoffTimings {
  /** Delay after the first failure. Default 10 000 ms. */
  baseMs: number;
  /** Ceiling. Default 360 000 ms (the 6 minutes Kubernetes documents). */
  maxMs: number;
}

/** When the pod finished: its containers' last finishedAt, else Ready=False's transition, else its deletion, else its creation. */
export function finishedTime(pod: KubeObject): number {
  const statuses: any[] = pod.status?.containerStatuses ?? [];
  if (statuses.length && statuses.every((c) => c.state?.terminated?.finishedAt)) {
    return Math.max(...statuses.map((c) => Date.parse(c.state.terminated.finishedAt)));
  }
  const ready = getCondition(pod.status?.conditions, 'Ready');
  if (ready?.status === 'False' && ready.lastTransitionTime) return Date.parse(ready.lastTransitionTime);
  if (pod.metadata.deletionTimestamp) return Date.parse(pod.metadata.deletionTimestamp) - (pod.metadata.deletionGracePeriodSeconds ?? 0) * 1000;
  return Date.parse(pod.metadata.creationTimestamp ?? '') || 0;
}

/** The record after newly finished pods: a success resets it, failures after the last success add to it. */
export function nextBackoffRecord(old: BackoffRecord | undefined, succeeded: KubeObject[], failed: KubeObject[]): BackoffRecord {
  const rec: BackoffRecord = { failuresAfterLastSuccess: old?.failuresAfterLastSuccess ?? 0, lastFailureTime: old?.lastFailureTime };
  const failTimes = failed.map(finishedTime).sort((a, b) => a - b);
  if (!succeeded.length) {
    if (!failTimes.length) return rec;
    return { failuresAfterLastSuccess: rec.failuresAfterLastSuccess + failTimes.length, lastFailureTime: failTimes[failTimes.length - 1] };
  }
  const lastSuccess = Math.max(...succeeded.map(finishedTime));
  const after = failTimes.filter((t) => t > lastSuccess);
  return after.length ? { failuresAfterLastSuccess: after.length, lastFailureTime: after[after.length - 1] } : { failuresAfterLastSuccess: 0 };
}

/** How long pod creation must still wait at `now` (0: create now). */
export function remainingBackoffMs(rec: BackoffRecord | undefined, now: number, t: BackoffTimings): number {
  if (!rec?.failuresAfterLastSuccess || rec.lastFailureTime === undefined) return 0;
  let delay = t.baseMs;
  for (let i = 1; i < rec.failuresAfterLastSuccess && delay < t.maxMs; i++) delay *= 2;
  delay = Math.min(delay, t.maxMs);
  return Math.max(0, delay - (now - rec.lastFailureTime));
}
