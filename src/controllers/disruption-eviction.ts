// An eviction, as the API server's pods/eviction subresource (policy/v1) performs it: a pod covered by a
// PodDisruptionBudget is deleted only while the budget allows a disruption, and the budget counts the eviction
// (disruptionsAllowed - 1, the pod in disruptedPods) before the pod goes; otherwise 429 with Kubernetes' words.
import type { KubeObject } from '../model/object.ts';
import { isPodReady, isPodTerminal } from '../model/pod.ts';
import { isoSeconds } from '../model/time.ts';
import type { Store } from '../store/store.ts';
import { selects } from './disruption.ts';

export type EvictionResult = { evicted: true } | { evicted: false; code: 429 | 500; message: string };

export const VIOLATES_BUDGET = "Cannot evict pod as it would violate the pod's disruption budget.";
export const MULTIPLE_BUDGETS = 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.';

export async function evictPod(store: Store, namespace: string, name: string, now: Date): Promise<EvictionResult> {
  const pod = await store.get('Pod', namespace, name);
  if (!pod) return { evicted: true };
  // Finished or already leaving: nothing for a budget to protect.
  if (isPodTerminal(pod) || pod.metadata.deletionTimestamp) return remove(store, pod);
  const budgets = (await store.list('PodDisruptionBudget', { namespace })).filter((b) => selects(b, pod));
  if (budgets.length > 1) return { evicted: false, code: 500, message: MULTIPLE_BUDGETS };
  const pdb = budgets[0];
  if (!pdb) return remove(store, pod);
  const s = pdb.status ?? {};
  // A budget the controller has not yet computed for its current spec cannot vouch for anything.
  if ((s.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) return { evicted: false, code: 429, message: VIOLATES_BUDGET };
  // Unhealthy pods may go when the budget is met anyway (IfHealthyBudget), or always (AlwaysAllow).
  if (!isPodReady(pod) && (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow' || (s.currentHealthy ?? 0) >= (s.desiredHealthy ?? 0))) return remove(store, pod);
  if ((s.disruptionsAllowed ?? 0) <= 0) return { evicted: false, code: 429, message: VIOLATES_BUDGET };
  await store.updateStatus('PodDisruptionBudget', namespace, pdb.metadata.name, {
    ...s, disruptionsAllowed: s.disruptionsAllowed - 1, disruptedPods: { ...s.disruptedPods, [name]: isoSeconds(now) },
  }, { shared: true });
  return remove(store, pod);
}

async function remove(store: Store, pod: KubeObject): Promise<EvictionResult> {
  await store.delete('Pod', pod.metadata.namespace, pod.metadata.name);
  return { evicted: true };
}
