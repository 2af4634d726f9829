// NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes no new pods, except those that tolerate the
// node.kubernetes.io/unschedulable:NoSchedule taint (DaemonSet pods do), as in Kubernetes.
import { isTolerated, TAINT_UNSCHEDULABLE, tolerationsOf } from '../../model/taints.ts';
import type { FilterPlugin } from '../framework.ts';
import type { KubeObject } from '../../model/object.ts';
import { clusterSummary, fits, unschedulable } from '../framework.ts';
import { REASON_UNSCHEDULABLE } from '../reasons.ts';

const toleratesCordon = (pod: KubeObject) => isTolerated(tolerationsOf(pod), { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  // No cordoned node, or a pod that tolerates cordoning: no node can fail it (upstream has no PreFilter here; the
  // verdict is the same, without a call per node).
  preFilter: (pod, state) => (clusterSummary(state).cordoned && !toleratesCordon(pod) ? undefined : 'skip'),
  filter: (pod, info) => (info.node.spec?.unschedulable && !toleratesCordon(pod)
    ? unschedulable(REASON_UNSCHEDULABLE) : fits),
};
