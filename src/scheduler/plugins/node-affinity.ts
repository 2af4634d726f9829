// NodeAffinity: the pod's nodeSelector and required node affinity filter nodes; its preferred terms score them
// by the weights of the terms each node matches, scaled so the best node gets 100 (kube-scheduler's plugin).
import { podMatchesNode, preferredAffinityScore } from '../../model/node-affinity.ts';
import type { FilterPlugin, ScorePlugin } from '../framework.ts';
import { fits, MAX_NODE_SCORE, unschedulable } from '../framework.ts';
import { REASON_SELECTOR } from '../reasons.ts';

/** Scales raw scores so the highest becomes 100 (kube-scheduler's DefaultNormalizeScore); all zero stay zero. */
export function normalizeToMax(scores: number[], reverse = false): number[] {
  const max = Math.max(0, ...scores);
  if (max === 0) return scores.map(() => (reverse ? MAX_NODE_SCORE : 0));
  return scores.map((s) => {
    const scaled = Math.floor((MAX_NODE_SCORE * s) / max);
    return reverse ? MAX_NODE_SCORE - scaled : scaled;
  });
}

export const nodeAffinity: FilterPlugin & ScorePlugin = {
  name: 'NodeAffinity',
  // Upstream's PreFilter Skip: a pod with neither a nodeSelector nor required node affinity fits every node.
  preFilter: (pod) => (Object.keys(pod.spec?.nodeSelector ?? {}).length || pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution ? undefined : 'skip'),
  filter: (pod, info) => (podMatchesNode(pod, info.node) ? fits : unschedulable(REASON_SELECTOR)),
  // Upstream's PreScore Skip: without preferred terms every node scores 0.
  preScore: (pod) => (pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution?.length ? undefined : 'skip'),
  score: (pod, info) => preferredAffinityScore(pod, info.node),
  normalize: (scores) => normalizeToMax(scores),
};
