// Why a pod fits nowhere, worded exactly as kube-scheduler's FitError: "0/3 nodes are available: 1 Insufficient cpu,
// 2 node(s) didn't match Pod's node affinity/selector." Users grep for these strings, so they must match.

/** kube-scheduler's ErrNoNodesAvailable, for a cluster without nodes. */
export const NO_NODES_AVAILABLE = 'no nodes available to schedule pods';

// The reasons our filters give, as the Kubernetes plugins word them.
export const REASON_NOT_READY = 'node(s) were not ready';
export const REASON_UNSCHEDULABLE = 'node(s) were unschedulable';
export const REASON_SELECTOR = "node(s) didn't match Pod's node affinity/selector";
export const REASON_TOO_MANY_PODS = 'Too many pods';
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
