// PodTopologySpread (kube-scheduler's plugin) for a pod's own topologySpreadConstraints: DoNotSchedule ones
// filter out nodes where placing the pod would make the domain's count exceed the smallest domain's by more than
// maxSkew (minDomains: fewer domains than that count the smallest as 0); ScheduleAnyway ones score nodes in
// emptier domains higher. Nodes count when they pass the pod's node affinity (nodeAffinityPolicy Honor, the
// default) and, with nodeTaintsPolicy Honor, tolerate its taints (the default Ignore counts tainted nodes too).
// Pods without constraints are spread by SelectorSpread, the system default here.
import { podMatchesNode } from '../../model/node-affinity.ts';
import type { KubeObject } from '../../model/object.ts';
import { matchesSelector, type LabelSelector } from '../../model/selector.ts';
import { blocksScheduling, taintsOf, tolerationsOf, untoleratedTaint } from '../../model/taints.ts';
import type { FilterPlugin, NodeInfo, ScorePlugin } from '../framework.ts';
import { allNodes, cached, fits, MAX_NODE_SCORE, unschedulable, type CycleState } from '../framework.ts';
import { REASON_SPREAD, REASON_SPREAD_MISSING_LABEL } from '../reasons.ts';

export interface SpreadConstraint {
  maxSkew: number;
  topologyKey: string;
  whenUnsatisfiable: 'DoNotSchedule' | 'ScheduleAnyway';
  labelSelector?: LabelSelector | null;
  minDomains?: number;
  matchLabelKeys?: string[];
  nodeAffinityPolicy?: 'Honor' | 'Ignore';
  nodeTaintsPolicy?: 'Honor' | 'Ignore';
}

const has = (labels: Record<string, string> | undefined, k: string) => Boolean(labels) && Object.prototype.hasOwnProperty.call(labels, k);

/** The constraints of one kind, with matchLabelKeys folded into the selector from the pod's own labels. */
function constraintsOf(pod: KubeObject, kind: SpreadConstraint['whenUnsatisfiable']): SpreadConstraint[] {
  const labels = pod.metadata.labels ?? {};
  return ((pod.spec?.topologySpreadConstraints ?? []) as SpreadConstraint[])
    .filter((c) => c.whenUnsatisfiable === kind)
    .map((c) => {
      const extra = (c.matchLabelKeys ?? []).filter((k) => has(labels, k)).map((k) => ({ key: k, operator: 'In', values: [labels[k]] }));
      return extra.length && c.labelSelector ? { ...c, labelSelector: { ...c.labelSelector, matchExpressions: [...(c.labelSelector.matchExpressions ?? []), ...extra] } } : c;
    });
}

/** Whether a node's pods count for a constraint (the inclusion policies). */
function counted(pod: KubeObject, c: SpreadConstraint, node: KubeObject): boolean {
  if ((c.nodeAffinityPolicy ?? 'Honor') === 'Honor' && !podMatchesNode(pod, node)) return false;
  if (c.nodeTaintsPolicy === 'Honor' && untoleratedTaint(taintsOf(node), tolerationsOf(pod), blocksScheduling)) return false;
  return true;
}

/** The pods a constraint counts on a node: same namespace, selected, not being deleted. */
const matching = (pod: KubeObject, c: SpreadConstraint, info: NodeInfo) =>
  !c.labelSelector ? 0 : info.pods.filter((p) => !p.metadata.deletionTimestamp && (p.metadata.namespace ?? 'default') === (pod.metadata.namespace ?? 'default')
    && matchesSelector(c.labelSelector!, p.metadata.labels)).length;

/** Per constraint: matching pods by domain value, over the nodes that count and carry every constraint's key. */
function domainCounts(pod: KubeObject, constraints: SpreadConstraint[], state: CycleState): Map<string, number>[] {
  const counts = constraints.map(() => new Map<string, number>());
  for (const info of allNodes(state)) {
    const labels = info.node.metadata.labels ?? {};
    if (!constraints.every((c) => has(labels, c.topologyKey))) continue;
    constraints.forEach((c, i) => {
      if (!counted(pod, c, info.node)) return;
      const v = labels[c.topologyKey];
      counts[i].set(v, (counts[i].get(v) ?? 0) + matching(pod, c, info));
    });
  }
  return counts;
}

export const podTopologySpread: FilterPlugin & ScorePlugin = {
  name: 'PodTopologySpread',
  // Only DoNotSchedule constraints filter: without any, the plugin is skipped for the cycle (upstream's Skip).
  preFilter: (pod, state) => (cached(state, 'PodTopologySpread/hard', () => constraintsOf(pod, 'DoNotSchedule')).length ? undefined : 'skip'),
  filter: (pod, info, state) => {
    const constraints = cached(state, 'PodTopologySpread/hard', () => constraintsOf(pod, 'DoNotSchedule'));
    if (!constraints.length) return fits;
    const labels = info.node.metadata.labels ?? {};
    if (!constraints.every((c) => has(labels, c.topologyKey))) return unschedulable(REASON_SPREAD_MISSING_LABEL);
    const counts = cached(state, 'PodTopologySpread/filter', () => domainCounts(pod, constraints, state));
    for (const [i, c] of constraints.entries()) {
      const domains = counts[i];
      let min = domains.size ? Math.min(...domains.values()) : 0;
      if (c.minDomains !== undefined && domains.size < c.minDomains) min = 0;
      const self = c.labelSelector && matchesSelector(c.labelSelector, pod.metadata.labels) ? 1 : 0;
      const skew = (domains.get(labels[c.topologyKey]) ?? 0) + self - min;
      if (skew > c.maxSkew) return unschedulable(REASON_SPREAD);
    }
    return fits;
  },
  // The raw score sums, over the ScheduleAnyway constraints, the matching pods in the node's domain plus maxSkew-1,
  // weighted by log(domains+2) so a key with more domains weighs more; nodes without a key score -1 (ignored).
  // Upstream's PreScore Skip: without ScheduleAnyway constraints every node scores the same.
  preScore: (pod, _feasible, state) => (cached(state, 'PodTopologySpread/soft', () => constraintsOf(pod, 'ScheduleAnyway')).length ? undefined : 'skip'),
  score: (pod, info, state) => {
    const constraints = cached(state, 'PodTopologySpread/soft', () => constraintsOf(pod, 'ScheduleAnyway'));
    if (!constraints.length) return 0;
    const labels = info.node.metadata.labels ?? {};
    if (!constraints.every((c) => has(labels, c.topologyKey))) return -1;
    const counts = cached(state, 'PodTopologySpread/score', () => domainCounts(pod, constraints, state));
    let score = 0;
    constraints.forEach((c, i) => {
      const weight = Math.log(counts[i].size + 2);
      score += ((counts[i].get(labels[c.topologyKey]) ?? 0) + c.maxSkew - 1) * weight;
    });
    return Math.round(score);
  },
  // Fewer pods, higher score: MaxNodeScore * (max + min - s) / max over the scored nodes; ignored nodes get 0.
  normalize: (scores) => {
    const scored = scores.filter((s) => s >= 0);
    if (!scored.length) return scores.map(() => 0);
    const min = Math.min(...scored), max = Math.max(...scored);
    return scores.map((s) => (s < 0 ? 0 : max === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max + min - s)) / max)));
  },
};
