// The scheduler's two writes, as kube-scheduler makes them through the API server: the binding (spec.nodeName plus
// PodScheduled=True and a Scheduled event) and the verdict that a pod fits nowhere (PodScheduled=False, Unschedulable,
// and a FailedScheduling event; the store folds repeats into a count).
import { setCondition, type Condition } from '../model/conditions.ts';
import type { KubeObject, ObjectRef } from '../model/object.ts';
import type { Store } from '../store/store.ts';
import { isoSeconds } from '../model/time.ts';


const refTo = (pod: KubeObject): ObjectRef => ({
  apiVersion: 'v1', kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid,
});

/** The pod's status with `cond` set, the rest kept; phase Pending until a node says otherwise (the API server's default). */
function withScheduled(pod: KubeObject, cond: Condition, now: Date) {
  const status = structuredClone(pod.status ?? {});
  return { ...status, phase: status.phase ?? 'Pending', conditions: setCondition(status.conditions, cond, isoSeconds(now)) };
}

/**
 * Binds `pod` (as read from the cache) to nodeName. The update carries the read resourceVersion, so a pod changed
 * meanwhile throws Conflict and is tried again from its new state. The status is written from a fresh read just
 * after, keeping whatever the node may already have written.
 */
export async function bindPod(store: Store, pod: KubeObject, nodeName: string, now: Date): Promise<void> {
  const { namespace, name } = pod.metadata;
  // No copy of the cached pod: the store copies what it is given, and the status is built anew from a shared read.
  await store.update({ ...pod, spec: { ...pod.spec, nodeName } });
  const cur = await store.get('Pod', namespace, name, { shared: true });
  if (!cur || cur.metadata.uid !== pod.metadata.uid || cur.spec?.nodeName !== nodeName) return; // deleted or replaced meanwhile
  await store.updateStatus('Pod', namespace, name, withScheduled(cur, { type: 'PodScheduled', status: 'True', lastProbeTime: null }, now));
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
