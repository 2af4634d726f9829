// The pod a workload's rollout waits on: a Degraded one first (it will not come good by waiting), else the first
// that is not yet Healthy. Its health decides the degraded-pod rule; its reason goes into the workload's message.
import type { KubeObject } from '../model/object.ts';
import { isPodActive } from '../model/pod.ts';
import { podHealth, podReason } from './pod.ts';
import type { ObjectHealth } from './types.ts';

export interface WaitingOn {
  pod: KubeObject;
  health: ObjectHealth;
  /** `pod web-7d9f-x2 (CrashLoopBackOff)` */
  text: string;
  /** The pod's own verdict, for the chain of reasons: `Pod web-7d9f-x2: container web waiting: CrashLoopBackOff …`. */
  causes: string[];
}

export function waitingOn(pods: readonly KubeObject[]): WaitingOn | undefined {
  // Pods being deleted or finished are no longer the workload's: they hold nothing up.
  const judged = pods.filter(isPodActive).map((pod) => ({ pod, health: podHealth(pod) }));
  const hit = judged.find((j) => j.health.status === 'Degraded') ?? judged.find((j) => j.health.status !== 'Healthy');
  return hit && { ...hit, text: `pod ${hit.pod.metadata.name} (${podReason(hit.pod)})`, causes: [hit.health.message] };
}
