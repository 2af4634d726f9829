// NodeSelector: every `spec.nodeSelector` label must be on the node. Kept for profiles that name it; the default
// profile runs NodeAffinity, which checks this and the required node affinity, as Kubernetes' plugin of that name.
import type { FilterPlugin } from '../framework.ts';
import { fits, unschedulable } from '../framework.ts';
import { REASON_SELECTOR } from '../reasons.ts';

export const nodeSelector: FilterPlugin = {
  name: 'NodeSelector',
  filter: (pod, info) => {
    const labels = info.node.metadata.labels ?? {};
    const want: Record<string, string> = pod.spec?.nodeSelector ?? {};
    const ok = Object.entries(want).every(([k, v]) => Object.prototype.hasOwnProperty.call(labels, k) && labels[k] === v);
    return ok ? fits : unschedulable(REASON_SELECTOR);
  },
};
