// NodeReady: only a node whose Ready condition is True takes pods. Kubernetes does this with the
// node.kubernetes.io/not-ready taint; we have no taints, so this is the older CheckNodeCondition predicate.
import type { FilterPlugin } from '../framework.ts';
import { clusterSummary, fits, unschedulable } from '../framework.ts';
import { REASON_NOT_READY } from '../reasons.ts';

export const nodeReady: FilterPlugin = {
  name: 'NodeReady',
  preFilter: (_pod, state) => (clusterSummary(state).notReady ? undefined : 'skip'), // every node Ready
  filter: (_pod, info) => (info.ready ? fits : unschedulable(REASON_NOT_READY)),
};
