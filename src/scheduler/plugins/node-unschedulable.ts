// NodeUnschedulable: a cordoned node (`spec.unschedulable`) takes no new pods.
import type { FilterPlugin } from '../framework.ts';
import { fits, unschedulable } from '../framework.ts';
import { REASON_UNSCHEDULABLE } from '../reasons.ts';

export const nodeUnschedulable: FilterPlugin = {
  name: 'NodeUnschedulable',
  filter: (_pod, info) => (info.node.spec?.unschedulable ? unschedulable(REASON_UNSCHEDULABLE) : fits),
};
