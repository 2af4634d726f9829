// Which changes can make a waiting pod fit, so only those wake the unschedulable pods (kube-scheduler's
// queueing hints). A node's heartbeat changes its status every few seconds and must not.
import { isDeepStrictEqual } from 'node:util';
import type { Condition } from '../model/conditions.ts';
import type { KubeObject } from '../model/object.ts';
import { isPodTerminal } from '../model/pod.ts';

const conditionStatuses = (n: KubeObject) =>
  ((n.status?.conditions ?? []) as Condition[]).map((c) => `${c.type}=${c.status}`).sort();

/** A node change the filters could see: cordoning, allocatable, labels, taints, or a condition's status (not its times). */
export function nodeSchedulingChanged(old: KubeObject, node: KubeObject): boolean {
  return Boolean(old.spec?.unschedulable) !== Boolean(node.spec?.unschedulable)
    || !isDeepStrictEqual(old.status?.allocatable, node.status?.allocatable)
    || !isDeepStrictEqual(old.metadata.labels ?? {}, node.metadata.labels ?? {})
    || !isDeepStrictEqual(old.spec?.taints ?? [], node.spec?.taints ?? [])
    || !isDeepStrictEqual(conditionStatuses(old), conditionStatuses(node));
}

/** A bound pod that finished: its node has its resources back. (Removal is the informer's delete.) */
export const podFinished = (old: KubeObject, pod: KubeObject) => Boolean(pod.spec?.nodeName) && !isPodTerminal(old) && isPodTerminal(pod);

/** The pending pod's own spec or labels changed (a new nodeSelector, smaller requests): worth trying again now. */
export const podSpecChanged = (old: KubeObject, pod: KubeObject) =>
  !isDeepStrictEqual(old.spec, pod.spec) || !isDeepStrictEqual(old.metadata.labels ?? {}, pod.metadata.labels ?? {});
