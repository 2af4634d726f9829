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

/**
 * The pod to wait on: of the Degraded ones, else of those not Healthy, the first by name (whatever order `pods` come
 * in: an owner's pods from an index need no sorting). Each pod version is judged once: the store replaces a pod on
 * every change, and a Deployment of 1,000 pods is assessed again for each change of any one of them.
 */
export function waitingOn(pods: readonly KubeObject[]): WaitingOn | undefined {
  // Pods being deleted or finished are no longer the workload's: they hold nothing up.
  let degraded: KubeObject | undefined, first: KubeObject | undefined;
  for (const pod of pods) {
    const health = verdictOf(pod);
    if (!health || health.status === 'Healthy') continue;
    if (health.status === 'Degraded') {
      if (!degraded || pod.metadata.name < degraded.metadata.name) degraded = pod;
    } else if (!first || pod.metadata.name < first.metadata.name) first = pod;
  }
  const pod = degraded ?? first;
  return pod && hit(pod, verdictOf(pod)!);
}

/** Each pod version's verdict; null: it holds nothing up (healthy, finished or being deleted). */
const verdicts = new WeakMap<KubeObject, ObjectHealth | null>();

function verdictOf(pod: KubeObject): ObjectHealth | null {
  let v = verdicts.get(pod);
  if (v === undefined) verdicts.set(pod, (v = !isPodActive(pod) || isPodHealthy(pod) ? null : podHealth(pod)));
  return v;
}

const hit = (pod: KubeObject, health: ObjectHealth): WaitingOn =>
  ({ pod, health, text: `pod ${pod.metadata.name} (${podReason(pod)})`, causes: [health.message] });
