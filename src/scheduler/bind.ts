// The scheduler's two writes, as kube-scheduler makes them through the API server: the binding (spec.nodeName plus
// PodScheduled=True in one write, and a Scheduled event) and the verdict that a pod fits nowhere (PodScheduled=False, Unschedulable,
// and a FailedScheduling event; the store folds repeats into a count).
import { setCondition, type Condition } from '../model/conditions.ts';
import type { KubeObject, ObjectRef } from '../model/object.ts';
import type { PodBinding, Store } from '../store/store.ts';
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
 * Binds pods (as read from the cache) to their nodes, a turn's decisions in one call, as kube-apiserver's pods/binding
 * does each: spec.nodeName and PodScheduled=True together, one version and one event for every watcher instead of two.
 * Each binding carries the read uid and resourceVersion, so a pod changed meanwhile gets Conflict and is tried again
 * from its new state; the status written is the one read plus the condition. Then a Scheduled event for each pod
 * bound. Returns, in order, undefined for a pod bound or the error that kept it from being bound.
 */
export async function bindPods(store: Store, decisions: { pod: KubeObject; node: string }[], now: Date): Promise<(Error | undefined)[]> {
  const bindings: PodBinding[] = decisions.map(({ pod, node }) => {
    const { namespace = 'default', name, uid, resourceVersion } = pod.metadata;
    if (resourceVersion === undefined) throw new Error(`${namespace}/${name}: a pod is bound from a read of it (with its resourceVersion)`);
    return { namespace, name, uid, resourceVersion, nodeName: node, status: withScheduled(pod, { type: 'PodScheduled', status: 'True', lastProbeTime: null }, now) };
  });
  const results = await store.bindPods(bindings);
  const errors = results.map((r) => (r instanceof Error ? r : undefined));
  for (const [i, { pod, node }] of decisions.entries()) {
    if (errors[i]) continue;
    const { namespace, name } = pod.metadata;
    await store.recordEvent(refTo(pod), 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${node}`);
  }
  return errors;
}

/** Records on the pod, and as a Warning event, why it fits nowhere. Unchanged verdicts write nothing new. */
export async function recordUnschedulable(store: Store, pod: KubeObject, message: string, now: Date): Promise<void> {
  const cond: Condition = { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message, lastProbeTime: null };
  const cur = await store.get('Pod', pod.metadata.namespace, pod.metadata.name);
  if (!cur || cur.metadata.uid !== pod.metadata.uid || cur.spec?.nodeName) return; // gone, replaced, or bound meanwhile
  await store.updateStatus('Pod', pod.metadata.namespace, pod.metadata.name, withScheduled(cur, cond, now), { shared: true });
  await store.recordEvent(refTo(pod), 'Warning', 'FailedScheduling', message);
}
