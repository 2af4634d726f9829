// TaintToleration: a node's NoSchedule and NoExecute taints keep off every pod that does not tolerate them; its
// PreferNoSchedule taints only lower its score, by how many the pod does not tolerate (kube-scheduler's plugin).
import { blocksScheduling, isTolerated, taintsOf, tolerationsOf, untoleratedTaint, type Toleration } from '../../model/taints.ts';
import type { FilterPlugin, ScorePlugin } from '../framework.ts';
import { cached, clusterSummary, fits, unschedulable } from '../framework.ts';
import { untoleratedTaint as reason } from '../reasons.ts';
import { normalizeToMax } from './node-affinity.ts';

export const taintToleration: FilterPlugin & ScorePlugin = {
  name: 'TaintToleration',
  preFilter: (_pod, state) => (clusterSummary(state).blockingTaints ? undefined : 'skip'), // no node's taint can keep it off
  filter: (pod, info) => {
    if (!info.node.spec?.taints?.length) return fits; // most nodes: nothing to tolerate, nothing allocated
    const taint = untoleratedTaint(taintsOf(info.node), tolerationsOf(pod), blocksScheduling);
    return taint ? unschedulable(reason(taint.key, taint.value)) : fits;
  },
  // No feasible node has a PreferNoSchedule taint: every node would score the same (100).
  preScore: (_pod, feasible, state) => (clusterSummary(state).preferNoSchedule && feasible.some((i) => i.node.spec?.taints?.some((t: { effect?: string }) => t.effect === 'PreferNoSchedule')) ? undefined : 'skip'),
  score: (pod, info, state) => {
    // Only tolerations that could apply to PreferNoSchedule count here, as upstream.
    const prefer = cached(state, 'TaintToleration/prefer', () =>
      tolerationsOf(pod).filter((t: Toleration) => !t.effect || t.effect === 'PreferNoSchedule'));
    return taintsOf(info.node).filter((t) => t.effect === 'PreferNoSchedule' && !isTolerated(prefer, t)).length;
  },
  normalize: (counts) => normalizeToMax(counts, true),
};
