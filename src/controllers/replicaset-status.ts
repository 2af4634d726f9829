// A ReplicaSet's status computed from the counts of the pods it owns (pure): counts, observedGeneration, ReplicaFailure.
import type { KubeObject } from '../model/object.ts';
import { setCondition, type Condition } from '../model/conditions.ts';
import { isoSeconds } from '../model/time.ts';
import type { PodCounts } from './replicaset-pods.ts';

export interface ReplicaFailure {
  /** FailedCreate or FailedDelete, as Kubernetes. */
  reason: 'FailedCreate' | 'FailedDelete';
  message: string;
}

export interface ReplicaSetStatusResult {
  status: Record<string, unknown>;
  /** When some ready pod will have been ready for minReadySeconds, in ms from now: the time to look again. */
  nextAvailableInMs?: number;
}


/**
 * The status of `rs` given the counts of its active pods (claimed, not terminal, not being deleted: replicaset-pods.ts).
 * A pod is available when it has been Ready for longer than spec.minReadySeconds, measured from the Ready condition's
 * lastTransitionTime.
 */
export function replicaSetStatus(rs: KubeObject, counts: PodCounts, now: Date, failure?: ReplicaFailure): ReplicaSetStatusResult {
  const nowIso = isoSeconds(now);
  let conditions: Condition[] = rs.status?.conditions ?? [];
  if (failure) conditions = setCondition(conditions, { type: 'ReplicaFailure', status: 'True', ...failure }, nowIso);
  else conditions = conditions.filter((c) => c.type !== 'ReplicaFailure'); // Kubernetes removes it once creates succeed
  const status: Record<string, unknown> = {
    ...rs.status,
    replicas: counts.replicas,
    fullyLabeledReplicas: counts.fullyLabeled,
    readyReplicas: counts.ready,
    availableReplicas: counts.available,
    observedGeneration: rs.metadata.generation ?? 1,
    conditions,
  };
  if (!conditions.length) delete status.conditions;
  return { status, nextAvailableInMs: counts.nextAvailableInMs };
}
