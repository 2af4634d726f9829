// What one sync of a StatefulSet does to its pods, as kube-controller-manager 1.32's updateStatefulSet decides it
// (with maxUnavailable honoured, the MaxUnavailableStatefulSet behaviour). Pure: the controller carries it out.
// - Replicas are the ordinals [start, start + replicas), condemned pods those outside, highest first.
// - OrderedReady (monotonic): one step at a time, lowest ordinal first; a missing pod is created only once every
//   lower one is Running, Ready and available; scale-down removes the highest ordinal only when all others are
//   healthy. Parallel: every missing pod at once, every condemned pod at once.
// - RollingUpdate: pods not at the update revision are deleted (and recreated at it) from the highest ordinal
//   down to `partition`, at most maxUnavailable unavailable at a time. OnDelete: only pods someone deletes move.
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { isPodReady } from '../model/pod.ts';
import { REVISION_LABEL, ordinalOf, replicasOf, startOrdinal } from './statefulset-identity.ts';

export interface ReplicaInput {
  set: KubeObject;
  /** The set's pods (members it controls), terminating ones included. */
  pods: readonly KubeObject[];
  updateRevision: string;
  now: Date;
}

export interface Creation { ordinal: number; revision: 'current' | 'update' }
export interface Deletion { pod: KubeObject; why: 'failed' | 'scale-down' | 'update' }

export interface ReplicaActions {
  create: Creation[];
  delete: Deletion[];
  /** Why a monotonic set (or an update) stopped: for logs and status messages. */
  waiting?: string;
  /** When a ready pod becomes available (minReadySeconds), in ms: the time to look again. */
  requeueAfterMs?: number;
}

export const isRunningAndReady = (pod: KubeObject) => pod.status?.phase === 'Running' && isPodReady(pod);
const isTerminating = (pod: KubeObject) => !!pod.metadata.deletionTimestamp;
const isTerminal = (pod: KubeObject) => pod.status?.phase === 'Failed' || pod.status?.phase === 'Succeeded';
export const revisionOfPod = (pod: KubeObject): string | undefined => pod.metadata.labels?.[REVISION_LABEL];

/** Ms until a running, ready pod has been ready for minReadySeconds: 0 when it has (available), Infinity when not ready. */
export function msUntilAvailable(pod: KubeObject, minReadySeconds: number, now: Date): number {
  if (!isRunningAndReady(pod)) return Infinity;
  if (minReadySeconds <= 0) return 0;
  const since = Date.parse(getCondition(pod.status?.conditions, 'Ready')?.lastTransitionTime ?? '');
  if (Number.isNaN(since)) return Infinity;
  const wait = since + minReadySeconds * 1000 - now.getTime();
  return wait < 0 ? 0 : wait + 1; // available once strictly past the mark
}

/** maxUnavailable resolved against replicas, rounded down, at least 1 (upstream's getStatefulSetMaxUnavailable). */
export function maxUnavailableOf(set: KubeObject): number {
  const v = set.spec?.updateStrategy?.rollingUpdate?.maxUnavailable ?? 1;
  const replicas = replicasOf(set);
  const n = typeof v === 'string' && v.endsWith('%') ? Math.floor((Number(v.slice(0, -1)) * replicas) / 100) : Number(v);
  return Number.isFinite(n) && n >= 1 ? n : 1;
}

export function replicaActions({ set, pods, updateRevision, now }: ReplicaInput): ReplicaActions {
  const start = startOrdinal(set);
  const count = replicasOf(set);
  const minReady = set.spec?.minReadySeconds ?? 0;
  const monotonic = set.spec?.podManagementPolicy !== 'Parallel';
  const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  const partition = rolling ? set.spec?.updateStrategy?.rollingUpdate?.partition ?? 0 : 0;
  const out: ReplicaActions = { create: [], delete: [] };
  const untilAvailable = (pod: KubeObject) => {
    const ms = msUntilAvailable(pod, minReady, now);
    if (ms > 0 && ms !== Infinity) out.requeueAfterMs = Math.min(out.requeueAfterMs ?? Infinity, ms);
    return ms;
  };

  const replicas: (KubeObject | undefined)[] = new Array(count).fill(undefined);
  const condemned: KubeObject[] = [];
  for (const pod of pods) {
    const ord = ordinalOf(pod);
    if (ord >= start && ord < start + count) replicas[ord - start] = pod;
    else if (ord >= 0) condemned.push(pod);
  }
  condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));
  const healthy = (pod: KubeObject | undefined) => !!pod && !isTerminating(pod) && untilAvailable(pod) === 0;
  const firstUnhealthy = [...replicas, ...condemned].find((p) => !healthy(p));

  // Below the partition a new pod is made at the current revision, at or above it at the update revision.
  const revisionFor = (index: number): Creation['revision'] => (rolling && index < partition ? 'current' : 'update');

  for (let i = 0; i < count; i++) {
    const pod = replicas[i];
    const ordinal = start + i;
    if (!pod) {
      out.create.push({ ordinal, revision: revisionFor(i) });
      if (monotonic) return { ...out, waiting: `creating pod ${set.metadata.name}-${ordinal}` };
      continue;
    }
    if (isTerminal(pod) && !isTerminating(pod)) {
      // A failed or finished pod is replaced (the node runs it no more); its name is free once it is gone.
      out.delete.push({ pod, why: 'failed' });
      if (monotonic) return { ...out, waiting: `recreating pod ${pod.metadata.name}` };
      continue;
    }
    if (!monotonic) continue;
    if (isTerminating(pod)) return { ...out, waiting: `pod ${pod.metadata.name} is terminating` };
    if (!isRunningAndReady(pod)) return { ...out, waiting: `pod ${pod.metadata.name} is not Running and Ready (${pod.status?.phase ?? 'not started'}${pod.status?.phase === 'Running' ? ', not Ready' : ''})` };
    if (untilAvailable(pod) > 0) return { ...out, waiting: `pod ${pod.metadata.name} is not available (minReadySeconds)` };
  }

  // Scale down: highest ordinal first; monotonic waits for every other pod to be healthy, one pod at a time.
  for (const pod of condemned) {
    if (isTerminating(pod)) {
      if (monotonic) return { ...out, waiting: `pod ${pod.metadata.name} is terminating` };
      continue;
    }
    if (monotonic && !healthy(pod) && pod !== firstUnhealthy) {
      return { ...out, waiting: `scale-down waits for pod ${firstUnhealthy?.metadata.name ?? pod.metadata.name} to be Running and Ready` };
    }
    out.delete.push({ pod, why: 'scale-down' });
    if (monotonic) return { ...out, waiting: `scaling down: pod ${pod.metadata.name}` };
  }

  if (!rolling) return out; // OnDelete: pods move to the update revision only when someone deletes them
  const maxUnavailable = maxUnavailableOf(set);
  const unavailable = replicas.filter((p) => !healthy(p)).length;
  if (unavailable >= maxUnavailable) {
    const stale = replicas.some((p, i) => i >= partition && p && revisionOfPod(p) !== updateRevision);
    return stale ? { ...out, waiting: `rolling update waits: ${unavailable} pod(s) unavailable, maxUnavailable ${maxUnavailable}` } : out;
  }
  let budget = maxUnavailable - unavailable;
  for (let i = count - 1; i >= partition && budget > 0; i--) {
    const pod = replicas[i];
    if (pod && revisionOfPod(pod) !== updateRevision && !isTerminating(pod)) {
      out.delete.push({ pod, why: 'update' });
      budget--;
    }
  }
  return out;
}
