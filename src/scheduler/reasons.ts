// Why a pod fits nowhere, worded exactly as kube-scheduler's FitError: "0/3 nodes are available: 1 Insufficient cpu,
// 2 node(s) didn't match Pod's node affinity/selector." Users grep for these strings, so they must match.

/** kube-scheduler's ErrNoNodesAvailable, for a cluster without nodes. */
export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

// The reasons our filters give, as the Kubernetes plugins word them.
export const REASON_NOT_READY = 'node(s) were not ready';
export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const REASON_SELECTOR = "node(s) didn't match Pod's node affinity/selector";
export const REASON_TOO_MANY_PODS = 'Too many pods';
export const untoleratedTaint = (key: string, value = '') => `node(s) had untolerated taint {${key}: ${value}}`;
export const REASON_POD_AFFINITY = "node(s) didn't match pod affinity rules";
export const REASON_POD_ANTI_AFFINITY = "node(s) didn't match pod anti-affinity rules";
export const REASON_EXISTING_ANTI_AFFINITY = "node(s) didn't satisfy existing pods anti-affinity rules";
export const REASON_SPREAD = "node(s) didn't match pod topology spread constraints";
export const REASON_SPREAD_MISSING_LABEL = `${REASON_SPREAD} (missing required label)`;
export const insufficient = (resource: string) => `Insufficient ${resource}`;

/**
 * Counts each reason over the nodes and sorts the "<count> <reason>" strings as text, as Kubernetes does (so
 * "10 …" sorts before "2 …"). A node may give several reasons (cpu and memory), each counted.
 */
export function fitErrorMessage(numNodes: number, reasonsByNode: Record<string, string[]>): string {
  const counts = new Map<string, number>();
  for (const reasons of Object.values(reasonsByNode)) for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts].map(([reason, n]) => `${n} ${reason}`).sort();
  return `0/${numNodes} nodes are available${parts.length ? `: ${parts.join(', ')}` : ''}.`;
}

/**
 * Reasons no eviction could cure (kube-scheduler's UnschedulableAndUnresolvable): preemption skips such nodes as
 * "not helpful". Resources, anti-affinity and spreading could be cured by evicting pods.
 */
const unresolvable = (reason: string) => reason === REASON_UNSCHEDULABLE || reason === REASON_SELECTOR || reason === REASON_NOT_READY
  || reason === REASON_POD_AFFINITY || reason === REASON_SPREAD_MISSING_LABEL || reason.startsWith('node(s) had untolerated taint');

/**
 * The FailedScheduling message with the DefaultPreemption plugin's verdict, as kube-scheduler 1.32 writes it. Every
 * pod has priority 0 here (PriorityClasses are kept, not enforced), so no pod is ever a victim: nodes where eviction
 * could help have "No preemption victims found", the others "Preemption is not helpful". The doubled final period
 * is Kubernetes' own.
 */
export function failedSchedulingMessage(numNodes: number, reasonsByNode: Record<string, string[]>): string {
  const fit = fitErrorMessage(numNodes, reasonsByNode);
  if (numNodes === 0) return fit;
  const verdicts: Record<string, string[]> = {};
  for (const [node, reasons] of Object.entries(reasonsByNode)) {
    verdicts[node] = [reasons.some(unresolvable) ? 'Preemption is not helpful for scheduling.' : 'No preemption victims found for incoming pod.'];
  }
  return `${fit} preemption: ${fitErrorMessage(numNodes, verdicts)}`;
}
