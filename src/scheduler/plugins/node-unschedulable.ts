// NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes no new pods, except those that tolerate the
// node.kubernetes.io/unschedulable:NoSchedule taint (DaemonSet pods do), as in Kubernetes.
import { isTolerated, TAINT_UNSCHEDULABLE, tolerationsOf } from '../../model/taints.ts';
import type { FilterPlugin } from '../framework.ts';
import { fits, unschedulable } from '../framework.ts';
import { REASON_UNSCHEDULABLE } from '../reasons.ts';

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter: (pod, info) => (info.node.spec?.unschedulable && !isTolerated(tolerationsOf(pod), { key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' })
    ? unschedulable(REASON_UNSCHEDULABLE) : fits),
};
