// The scheduler's two writes, as kube-scheduler makes them through the API server: the binding (spec.nodeName plus
// PodScheduled=True in one write, and a Scheduled event) and the verdict that a pod fits nowhere (PodScheduled=False, Unschedulable,
// and a FailedScheduling event; the store folds repeats into a count).
import { setCondition, type Condition } from '../model/conditions.ts';
import type { KubeObject, ObjectRef } from '../model/object.ts';
import type { Store } from '../store/store.ts';
import { isoSeconds } from '../model/time.ts';


const refTo = (pod: KubeObject): ObjectRef => ({
  apiVersion: 'v1', kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid,
});

/** The pod's status with `cond` set, the rest kept; phase Pending until a node says otherwise (the API server's default).
 * A new object over the read one's parts (never changed: setCondition makes a new list); the store copies it. */
function withScheduled(pod: KubeObject, cond: Condition, now: Date) {
  const status = pod.status ?? {};
  return { ...status, phase: status.phase ?? 'Pending', conditions: setCondition(status.conditions, cond, isoSeconds(now)) };
}

/**
 * Binds `pod` (as read from the cache) to nodeName in one write, as kube-apiserver's pods/binding does: spec.nodeName
 * and PodScheduled=True together, one version and one event for every watcher instead of two. The update carries
 * the read resourceVersion, so a pod changed meanwhile (its status by a node too) throws Conflict and is tried again
 * from its new state; the status written is the one read plus the condition.
 */
export async function bindPod(store: Store, pod: KubeObject, nodeName: string, now: Date): Promise<void> {
  const { namespace, name } = pod.metadata;
  if (pod.metadata.resourceVersion === undefined) throw new Error(`${namespace}/${name}: a pod is bound from a read of it (with its resourceVersion)`);
  // No copy of the cached pod: the store copies what it is given, and returns nothing we keep.
  const status = withScheduled(pod, { type: 'PodScheduled', status: 'True', lastProbeTime: null }, now);
  await store.update({ ...pod, spec: { ...pod.spec, nodeName } }, { shared: true, status });
  await store.recordEvent(refTo(pod), 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`);
}

/** Records on the pod, and as a Warning event, why it fits nowhere. Unchanged verdicts write nothing new. */
export async function recordUnschedulable(store: Store, pod: KubeObject, message: string, now: Date): Promise<void> {
  const cond: Condition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null };
  const cur = await store.get('Pod', pod.metadata.namespace, pod.metadata.name);
  if (!cur || cur.metadata.uid !== pod.metadata.uid || cur.spec?.nodeName) return; // gone, replaced, or bound meanwhile
  await store.updateStatus('Pod', pod.metadata.namespace, pod.metadata.name, withScheduled(cur, cond, now));
  await store.recordEvent(refTo(pod), 'Warning', 'FailedScheduling', message);
}
