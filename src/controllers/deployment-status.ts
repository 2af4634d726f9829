// A Deployment's status, pure: counts summed over its ReplicaSets, and the Available / Progressing /
// ReplicaFailure conditions with Kubernetes' reasons, messages and progress-deadline rules.
import type { KubeObject } from '../model/object.ts';
import { getCondition, type Condition } from '../model/conditions.ts';
import { isoSeconds } from '../model/time.ts';
import {
  actualReplicaCount, availableReplicaCount, maxUnavailable, paramsOf, readyReplicaCount, replicaCount, type ReplicaSetView,
} from './rollout.ts';

export const PROGRESSING = 'Progressing';
export const AVAILABLE = 'Available';
export const REPLICA_FAILURE = 'ReplicaFailure';

/** Condition reasons, as Kubernetes' deploymentutil names them. */
export const Reason = {
  NewReplicaSetCreated: 'NewReplicaSetCreated',
  FoundNewReplicaSet: 'FoundNewReplicaSet',
  ReplicaSetUpdated: 'ReplicaSetUpdated',
  NewReplicaSetAvailable: 'NewReplicaSetAvailable',
  ProgressDeadlineExceeded: 'ProgressDeadlineExceeded',
  FailedRSCreate: 'ReplicaSetCreateError',
  DeploymentPaused: 'DeploymentPaused',
  DeploymentResumed: 'DeploymentResumed',
  MinimumReplicasAvailable: 'MinimumReplicasAvailable',
  MinimumReplicasUnavailable: 'MinimumReplicasUnavailable',
} as const;

export interface DeploymentStatus {
  observedGeneration: number;
  replicas: number;
  updatedReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  unavailableReplicas: number;
  conditions?: Condition[];
  collisionCount?: number;
}


/** "Never" for progressDeadlineSeconds, as Kubernetes spells it (MaxInt32). */
const NO_DEADLINE = 2147483647;

export const progressDeadlineSeconds = (d: KubeObject): number | undefined => {
  const s = d.spec?.progressDeadlineSeconds ?? 600;
  return s === NO_DEADLINE ? undefined : s;
};

export const hasProgressDeadline = (d: KubeObject) => progressDeadlineSeconds(d) !== undefined;

export function newCondition(type: string, status: Condition['status'], reason: string, message: string, now: Date): Condition {
  const t = isoSeconds(now);
  return { type, status, lastUpdateTime: t, lastTransitionTime: t, reason, message };
}

/**
 * Kubernetes' SetDeploymentCondition: a condition with the same status and reason as the current one changes
 * nothing (so the status settles); otherwise it replaces it, keeping lastTransitionTime while the status holds.
 */
export function setDeploymentCondition(conditions: Condition[] | undefined, c: Condition): Condition[] {
  const list = conditions ?? [];
  const cur = getCondition(list, c.type);
  if (cur && cur.status === c.status && cur.reason === c.reason) return list;
  const next = cur && cur.status === c.status ? { ...c, lastTransitionTime: cur.lastTransitionTime } : c;
  return [...list.filter((x) => x.type !== c.type), next];
}

export const removeCondition = (conditions: Condition[] | undefined, type: string) => (conditions ?? []).filter((c) => c.type !== type);

/** Kubernetes' calculateStatus: counts from the ReplicaSets, and the Available condition. */
export function calculateStatus(d: KubeObject, allRSs: readonly ReplicaSetView[], newRS: ReplicaSetView | undefined, now: Date): DeploymentStatus {
  const p = paramsOf(d.spec);
  const available = availableReplicaCount(allRSs);
  const status: DeploymentStatus = {
    observedGeneration: d.metadata.generation ?? 1,
    replicas: actualReplicaCount(allRSs),
    updatedReplicas: actualReplicaCount([newRS]),
    readyReplicas: readyReplicaCount(allRSs),
    availableReplicas: available,
    // More available than asked for happens while scaling down; that is not "minus" unavailable.
    unavailableReplicas: Math.max(0, replicaCount(allRSs) - available),
    conditions: [...(d.status?.conditions ?? [])],
  };
  if (d.status?.collisionCount !== undefined) status.collisionCount = d.status.collisionCount;
  const cond = available >= p.replicas - maxUnavailable(p)
    ? newCondition(AVAILABLE, 'True', Reason.MinimumReplicasAvailable, 'Deployment has minimum availability.', now)
    : newCondition(AVAILABLE, 'False', Reason.MinimumReplicasUnavailable, 'Deployment does not have minimum availability.', now);
  status.conditions = setDeploymentCondition(status.conditions, cond);
  return status;
}

/** All replicas updated and available, no old ones left, for the current generation. */
export function deploymentComplete(d: KubeObject, s: DeploymentStatus): boolean {
  const want = paramsOf(d.spec).replicas;
  return s.updatedReplicas === want && s.replicas === want && s.availableReplicas === want && s.observedGeneration >= (d.metadata.generation ?? 1);
}

/** Progress since the stored status: more updated, fewer old, more ready or more available replicas. */
export function deploymentProgressing(d: KubeObject, s: DeploymentStatus): boolean {
  const old = d.status ?? {};
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = s.replicas - s.updatedReplicas;
  return s.updatedReplicas > (old.updatedReplicas ?? 0) || newOld < oldOld
    || s.readyReplicas > (old.readyReplicas ?? 0) || s.availableReplicas > (old.availableReplicas ?? 0);
}

/** No progress reported for progressDeadlineSeconds (Kubernetes' DeploymentTimedOut). */
export function deploymentTimedOut(d: KubeObject, s: DeploymentStatus, now: Date): boolean {
  const deadline = progressDeadlineSeconds(d);
  if (deadline === undefined) return false;
  const c = getCondition(s.conditions, PROGRESSING);
  if (!c) return false; // a lost condition is no evidence of a lack of progress
  if (c.reason === Reason.NewReplicaSetAvailable) return false; // a finished rollout does not time out later
  if (c.reason === Reason.ProgressDeadlineExceeded) return true;
  const from = Date.parse(c.lastUpdateTime ?? '');
  return !Number.isNaN(from) && from + deadline * 1000 < now.getTime();
}

const rsMessage = (d: KubeObject, newRS: ReplicaSetView | undefined, what: string) =>
  newRS ? `ReplicaSet "${newRS.name}" ${what}.` : `Deployment "${d.metadata.name}" ${what}.`;

/**
 * Kubernetes' syncRolloutStatus without the write: calculateStatus plus the Progressing condition (progress,
 * completion, deadline) and ReplicaFailure copied from the ReplicaSets. `d.status` is the status as last
 * written (with any condition this sync already set), the baseline progress is measured against.
 */
export function rolloutStatus(d: KubeObject, allRSs: readonly ReplicaSetView[], newRS: ReplicaSetView | undefined, now: Date): DeploymentStatus {
  const s = calculateStatus(d, allRSs, newRS, now);
  const withDeadline = hasProgressDeadline(d);
  if (!withDeadline) s.conditions = removeCondition(s.conditions, PROGRESSING);
  const current = getCondition(d.status?.conditions, PROGRESSING);
  // One active ReplicaSet and a rollout already reported complete: nothing to estimate.
  const alreadyComplete = s.replicas === s.updatedReplicas && current?.reason === Reason.NewReplicaSetAvailable;
  if (withDeadline && !alreadyComplete) {
    if (deploymentComplete(d, s)) {
      s.conditions = setDeploymentCondition(s.conditions, newCondition(PROGRESSING, 'True', Reason.NewReplicaSetAvailable, rsMessage(d, newRS, 'has successfully progressed'), now));
    } else if (deploymentProgressing(d, s)) {
      // Progress refreshes lastUpdateTime even when the reason stays: that is what the deadline counts from.
      let c = newCondition(PROGRESSING, 'True', Reason.ReplicaSetUpdated, rsMessage(d, newRS, 'is progressing'), now);
      if (current?.status === 'True') c = { ...c, lastTransitionTime: current.lastTransitionTime };
      s.conditions = [...removeCondition(s.conditions, PROGRESSING), c];
    } else if (deploymentTimedOut(d, s, now)) {
      s.conditions = setDeploymentCondition(s.conditions, newCondition(PROGRESSING, 'False', Reason.ProgressDeadlineExceeded, rsMessage(d, newRS, 'has timed out progressing'), now));
    }
  }
  const failure = replicaFailure(allRSs, newRS);
  s.conditions = failure ? setDeploymentCondition(s.conditions, failure) : removeCondition(s.conditions, REPLICA_FAILURE);
  return s;
}

/** The new ReplicaSet's ReplicaFailure condition, else the first old one's, as a Deployment condition. */
function replicaFailure(allRSs: readonly ReplicaSetView[], newRS: ReplicaSetView | undefined): Condition | undefined {
  const of = (rs: ReplicaSetView | undefined) => rs?.conditions?.find((c) => c.type === REPLICA_FAILURE);
  const c = of(newRS) ?? allRSs.map(of).find(Boolean);
  if (!c) return undefined;
  return { type: REPLICA_FAILURE, status: c.status, lastUpdateTime: c.lastTransitionTime, lastTransitionTime: c.lastTransitionTime, reason: c.reason, message: c.message };
}

/**
 * Kubernetes' requeueStuckDeployment: when the rollout is still under way, in how many ms the deadline will
 * have passed (plus `slackMs`), so the controller looks again then even if nothing else happens.
 */
export function progressCheckInMs(d: KubeObject, s: DeploymentStatus, now: Date, slackMs: number): number | undefined {
  const deadline = progressDeadlineSeconds(d);
  const c = getCondition(s.conditions, PROGRESSING);
  if (deadline === undefined || !c || deploymentComplete(d, s)) return undefined;
  if (c.reason === Reason.ProgressDeadlineExceeded || c.reason === Reason.NewReplicaSetAvailable) return undefined;
  const from = Date.parse(c.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return undefined;
  return Math.max(0, from + deadline * 1000 - now.getTime()) + slackMs;
}

/**
 * Kubernetes' checkPausedConditions: Progressing becomes Unknown/DeploymentPaused on pause and
 * Unknown/DeploymentResumed on resume, so paused time never counts towards the deadline. A timed-out
 * rollout keeps saying so. Returns the new conditions, or undefined when nothing changes.
 */
export function pausedConditions(d: KubeObject, now: Date): Condition[] | undefined {
  if (!hasProgressDeadline(d)) return undefined;
  const cur = getCondition(d.status?.conditions, PROGRESSING);
  if (cur?.reason === Reason.ProgressDeadlineExceeded) return undefined;
  const pausedNoted = cur?.reason === Reason.DeploymentPaused;
  if (d.spec?.paused && !pausedNoted) {
    return setDeploymentCondition(d.status?.conditions, newCondition(PROGRESSING, 'Unknown', Reason.DeploymentPaused, 'Deployment is paused', now));
  }
  if (!d.spec?.paused && pausedNoted) {
    return setDeploymentCondition(d.status?.conditions, newCondition(PROGRESSING, 'Unknown', Reason.DeploymentResumed, 'Deployment is resumed', now));
  }
  return undefined;
}
