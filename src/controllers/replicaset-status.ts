// A ReplicaSet's status computed from the pods it owns (pure): counts, observedGeneration, ReplicaFailure.
import type { KubeObject } from '../model/object.ts';
import { getCondition, setCondition, type Condition } from '../model/conditions.ts';
import { isPodReady } from '../model/pod.ts';
import { isoSeconds } from '../model/time.ts';

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
 * The status of `rs` given its active pods (claimed, not terminal, not being deleted). A pod is available when it
 * has been Ready for longer than spec.minReadySeconds, measured from the Ready condition's lastTransitionTime.
 */
export function replicaSetStatus(rs: KubeObject, pods: readonly KubeObject[], now: Date, failure?: ReplicaFailure): ReplicaSetStatusResult {
  // Once, not per pod: a ReplicaSet is synced for nearly every change of its pods, each time over all of them.
  const templateLabels = Object.entries((rs.spec?.template?.metadata?.labels ?? {}) as Record<string, string>);
  const minReadyMs = (rs.spec?.minReadySeconds ?? 0) * 1000;
  let fullyLabeled = 0, ready = 0, available = 0;
  let next: number | undefined;
  for (const pod of pods) {
    const labels = pod.metadata.labels ?? {};
    let labeled = true;
    for (const [k, v] of templateLabels) if (labels[k] !== v) { labeled = false; break; }
    if (labeled) fullyLabeled++;
    if (!isPodReady(pod)) continue;
    ready++;
    if (minReadyMs === 0) { available++; continue; }
    const since = Date.parse(getCondition(pod.status?.conditions, 'Ready')?.lastTransitionTime ?? '');
    if (Number.isNaN(since)) continue; // ready since an unknown time: never counted, as in Kubernetes
    const wait = since + minReadyMs - now.getTime();
    if (wait < 0) available++;
    else next = Math.min(next ?? Infinity, wait + 1); // available once strictly past the mark
  }

  const nowIso = isoSeconds(now);
  let conditions: Condition[] = rs.status?.conditions ?? [];
  if (failure) conditions = setCondition(conditions, { type: 'ReplicaFailure', status: 'True', ...failure }, nowIso);
  else conditions = conditions.filter((c) => c.type !== 'ReplicaFailure'); // Kubernetes removes it once creates succeed
  const status: Record<string, unknown> = {
    ...rs.status,
    replicas: pods.length,
    fullyLabeledReplicas: fullyLabeled,
    readyReplicas: ready,
    availableReplicas: available,
    observedGeneration: rs.metadata.generation ?? 1,
    conditions,
  };
  if (!conditions.length) delete status.conditions;
  return { status, nextAvailableInMs: next };
}
