// A StatefulSet's status computed from its pods (pure), as kube-controller-manager's computeReplicaStatus and
// completeRollingUpdate: counts, revisions, collisionCount and observedGeneration.
import type { KubeObject } from '../model/object.ts';
import { isRunningAndReady, msUntilAvailable, revisionOfPod } from './statefulset-replicas.ts';

export interface StatusInput {
  set: KubeObject;
  pods: readonly KubeObject[];
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
  now: Date;
}

export function statefulSetStatus({ set, pods, currentRevision, updateRevision, collisionCount, now }: StatusInput): Record<string, unknown> {
  const minReady = set.spec?.minReadySeconds ?? 0;
  let ready = 0, available = 0, current = 0, updated = 0;
  for (const pod of pods) {
    if (isRunningAndReady(pod)) {
      ready++;
      if (msUntilAvailable(pod, minReady, now) === 0) available++;
    }
    if (pod.metadata.deletionTimestamp) continue;
    const rev = revisionOfPod(pod);
    if (rev === currentRevision) current++;
    if (rev === updateRevision) updated++;
  }
  const status: Record<string, unknown> = {
    ...set.status,
    observedGeneration: set.metadata.generation ?? 1,
    replicas: pods.length,
    readyReplicas: ready,
    currentReplicas: current,
    updatedReplicas: updated,
    availableReplicas: available,
    currentRevision,
    updateRevision,
    collisionCount,
  };
  // A rolling update is complete once every pod is updated and ready: the update revision becomes current.
  const rolling = (set.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';
  if (rolling && updated === pods.length && ready === pods.length) {
    status.currentReplicas = updated;
    status.currentRevision = updateRevision;
  }
  return status;
}
