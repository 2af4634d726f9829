// InterPodAffinity (kube-scheduler's plugin): required pod affinity and anti-affinity filter nodes by the pods
// already in the node's topology domain (same value of topologyKey), existing pods' required anti-affinity keeps
// matching pods away from their domain, and preferred terms (both ways) score domains by weight.
import type { KubeObject } from '../../model/object.ts';
import type { FilterPlugin, NodeInfo, ScorePlugin } from '../framework.ts';
import { allNodes, cached, clusterSummary, fits, MAX_NODE_SCORE, unschedulable, type CycleState } from '../framework.ts';
import { REASON_EXISTING_ANTI_AFFINITY, REASON_POD_AFFINITY, REASON_POD_ANTI_AFFINITY } from '../reasons.ts';
import { domainOf, termsOf, termSelects } from './pod-affinity-terms.ts';

/** The weight an existing pod's required affinity gives to a pod it selects (hardPodAffinityWeight, default 1). */
const HARD_POD_AFFINITY_WEIGHT = 1;

type Counts = Map<string, number>;
const bump = (m: Counts, domain: string | undefined, by = 1) => { if (domain) m.set(domain, (m.get(domain) ?? 0) + by); };

/** The pods on nodes that can matter: all of them when the pod has terms of its own, else only those with terms
 * (usually none: a plain loop that skips empty nodes, as this runs over every node twice a cycle). */
function placed(state: CycleState, all: boolean): [KubeObject, NodeInfo][] {
  const out: [KubeObject, NodeInfo][] = [];
  for (const info of allNodes(state)) {
    const pods = all ? info.pods : info.withAffinity;
    for (let i = 0; i < pods.length; i++) out.push([pods[i], info]);
  }
  return out;
}
const hasTerms = (pod: KubeObject, kind: 'required' | 'preferred') =>
  Boolean(termsOf(pod, 'podAffinity')[kind].length || termsOf(pod, 'podAntiAffinity')[kind].length);

interface FilterState { existingAnti: Counts; affinity: Counts; anti: Counts }

function filterState(pod: KubeObject, state: CycleState): FilterState {
  return cached(state, 'InterPodAffinity/filter', () => {
    const s: FilterState = { existingAnti: new Map(), affinity: new Map(), anti: new Map() };
    const affinity = termsOf(pod, 'podAffinity').required, anti = termsOf(pod, 'podAntiAffinity').required;
    for (const [other, info] of placed(state, hasTerms(pod, 'required'))) {
      for (const t of termsOf(other, 'podAntiAffinity').required) if (termSelects(t, other, pod)) bump(s.existingAnti, domainOf(info.node, t.topologyKey));
      // An existing pod counts for affinity only when it matches every required term.
      if (affinity.length && affinity.every((t) => termSelects(t, pod, other))) for (const t of affinity) bump(s.affinity, domainOf(info.node, t.topologyKey));
      for (const t of anti) if (termSelects(t, pod, other)) bump(s.anti, domainOf(info.node, t.topologyKey));
    }
    return s;
  });
}

function satisfiesAffinity(pod: KubeObject, info: NodeInfo, s: FilterState): boolean {
  const terms = termsOf(pod, 'podAffinity').required;
  let podsExist = true;
  for (const t of terms) {
    const d = domainOf(info.node, t.topologyKey);
    if (!d) return false;
    if (!s.affinity.get(d)) podsExist = false;
  }
  // The first pod of a group that selects itself may go anywhere its terms' keys exist; otherwise nothing could start.
  return podsExist || (s.affinity.size === 0 && terms.every((t) => termSelects(t, pod, pod)));
}

/** Preferred terms (the pod's, and placed pods' towards it) as weights by domain, once per cycle. */
function scoreDomains(pod: KubeObject, state: CycleState): Counts {
  return cached(state, 'InterPodAffinity/score', () => {
    const m: Counts = new Map();
    const mine = termsOf(pod, 'podAffinity').preferred, mineAnti = termsOf(pod, 'podAntiAffinity').preferred;
    for (const [other, oi] of placed(state, hasTerms(pod, 'preferred'))) {
      for (const { weight, podAffinityTerm: t } of mine) if (termSelects(t, pod, other)) bump(m, domainOf(oi.node, t.topologyKey), weight);
      for (const { weight, podAffinityTerm: t } of mineAnti) if (termSelects(t, pod, other)) bump(m, domainOf(oi.node, t.topologyKey), -weight);
      const theirs = termsOf(other, 'podAffinity'), theirsAnti = termsOf(other, 'podAntiAffinity');
      for (const t of theirs.required) if (termSelects(t, other, pod)) bump(m, domainOf(oi.node, t.topologyKey), HARD_POD_AFFINITY_WEIGHT);
      for (const { weight, podAffinityTerm: t } of theirs.preferred) if (termSelects(t, other, pod)) bump(m, domainOf(oi.node, t.topologyKey), weight);
      for (const { weight, podAffinityTerm: t } of theirsAnti.preferred) if (termSelects(t, other, pod)) bump(m, domainOf(oi.node, t.topologyKey), -weight);
    }
    return m;
  });
}

export const interPodAffinity: FilterPlugin & ScorePlugin = {
  name: 'InterPodAffinity',
  // Upstream's PreFilter: the counts by domain once per cycle; skipped when the pod has no required terms and no
  // placed pod's required anti-affinity selects it (nothing can then fail on any node).
  preFilter: (pod, state) => {
    // No placed pod has terms and neither has this one: nothing to count, on any node.
    if (!clusterSummary(state).podsWithAffinity && !hasTerms(pod, 'required')) return 'skip';
    const s = filterState(pod, state);
    return hasTerms(pod, 'required') || s.existingAnti.size ? undefined : 'skip';
  },
  filter: (pod, info, state) => {
    const s = filterState(pod, state);
    if (!satisfiesAffinity(pod, info, s)) return unschedulable(REASON_POD_AFFINITY);
    for (const t of termsOf(pod, 'podAntiAffinity').required) {
      const d = domainOf(info.node, t.topologyKey);
      if (d && s.anti.get(d)) return unschedulable(REASON_POD_ANTI_AFFINITY);
    }
    for (const [d] of s.existingAnti) {
      const [key] = d.split('=', 1);
      if (domainOf(info.node, key) === d) return unschedulable(REASON_EXISTING_ANTI_AFFINITY);
    }
    return fits;
  },
  // Upstream's PreScore Skip: no preferred term anywhere weighs on this pod, so every node would score the same.
  preScore: (pod, _feasible, state) => ((clusterSummary(state).podsWithAffinity || hasTerms(pod, 'preferred')) && scoreDomains(pod, state).size ? undefined : 'skip'),
  score: (pod, info, state) => {
    const domains = scoreDomains(pod, state);
    let score = 0;
    for (const [d, w] of domains) {
      const key = d.slice(0, d.indexOf('='));
      if (domainOf(info.node, key) === d) score += w;
    }
    return score;
  },
  // Min-max to 0..100; all equal give 0, as upstream.
  normalize: (scores) => {
    const min = Math.min(...scores), max = Math.max(...scores);
    return scores.map((s) => (max > min ? Math.floor((MAX_NODE_SCORE * (s - min)) / (max - min)) : 0));
  },
};
