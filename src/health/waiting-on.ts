// The pod a workload's rollout waits on: a Degraded one first (it will not come good by waiting), else the first
// that is not yet Healthy. Its health decides the degraded-pod rule; its reason goes into the workload's message.
import type { KubeObject } from '../model/object.ts';
import { isPodActive } from '../model/pod.ts';
import { isPodHealthy, podHealth, podReason } from './pod.ts';
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
  // One pass, judging in full only the pods that are not plainly healthy. Pods being deleted or finished are no
  // longer the workload's: they hold nothing up.
  let first: { pod: KubeObject; health: ObjectHealth } | undefined;
  for (const pod of pods) {
    if (!isPodActive(pod) || isPodHealthy(pod)) continue;
    const health = podHealth(pod);
    if (health.status === 'Degraded') return hit(pod, health);
    if (health.status !== 'Healthy') first ??= { pod, health };
  }
  return first && hit(first.pod, first.health);
}

const hit = (pod: KubeObject, health: ObjectHealth): WaitingOn =>
  ({ pod, health, text: `pod ${pod.metadata.name} (${podReason(pod)})`, causes: [health.message] });
