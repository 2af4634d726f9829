// The scheduling framework, after kube-scheduler's: one narrow interface per extension point (filter, score),
// plugins registered by name, and a pure `schedule` that picks a node for one pod from a snapshot of the cluster.
import type { KubeObject } from '../model/object.ts';
import type { NodeInfo } from './node-info.ts';
import { fitErrorMessage, NO_NODES_AVAILABLE } from './reasons.ts';
import { summaryOf, type ClusterSummary } from './cluster-summary.ts';

export type { NodeInfo };

/** A filter's verdict: fits, or does not with Kubernetes reason strings ("Insufficient memory"). */
export type Status = { fits: true } | { fits: false; reasons: string[] };

export const fits: Status = { fits: true };
export const unschedulable = (...reasons: string[]): Status => ({ fits: false, reasons });

/** Data shared by the plugins within one scheduling cycle (one pod), as kube-scheduler's CycleState. */
export type CycleState = Map<string, unknown>;

/** Reads a value cached in the cycle state, computing it on first use. */
/** Every node of the snapshot, for plugins that look beyond the node they judge (inter-pod affinity, spreading). */
export const allNodes = (state: CycleState): NodeInfo[] => (state.get(ALL_NODES) as NodeInfo[] | undefined) ?? [];
const ALL_NODES = 'framework/nodes';

/** What the snapshot's nodes have in common (cluster-summary.ts): the cache's, or counted once for this cycle. */
export const clusterSummary = (state: CycleState): ClusterSummary => summaryOf(state, () => allNodes(state));

export function cached<T>(state: CycleState, key: string, compute: () => T): T {
  if (!state.has(key)) state.set(key, compute());
  return state.get(key) as T;
}

/**
 * `cached` for a per-pod value computed by a plain function of the pod: nothing is allocated on the calls that find
 * it (a closure per call, on every node of every cycle, was most of what scoring allocated).
 */
export function cachedOf<T>(state: CycleState, key: string, compute: (pod: KubeObject) => T, pod: KubeObject): T {
  const v = state.get(key);
  if (v !== undefined || state.has(key)) return v as T;
  const fresh = compute(pod);
  state.set(key, fresh);
  return fresh;
}

export interface FilterPlugin {
  name: string;
  /**
   * Once per cycle, before any node (kube-scheduler's PreFilter): may put what every node's check needs into the
   * state, and returns 'skip' when the pod has nothing this plugin checks, so it is not run on any node.
   */
  preFilter?(pod: KubeObject, state: CycleState): 'skip' | undefined;
  filter(pod: KubeObject, nodeInfo: NodeInfo, state: CycleState): Status;
}

export const MAX_NODE_SCORE = 100;

export interface ScorePlugin {
  name: string;
  /**
   * Once per cycle, before scoring (kube-scheduler's PreScore): 'skip' when this plugin would give every feasible
   * node the same score, so it is not run on any; a skipped plugin adds nothing to any node's total, as upstream.
   */
  preScore?(pod: KubeObject, feasible: NodeInfo[], state: CycleState): 'skip' | undefined;
  /** A raw score for a node that passed every filter; 0..100 unless `normalize` maps it there. */
  score(pod: KubeObject, nodeInfo: NodeInfo, state: CycleState): number;
  /**
   * The same scores for every feasible node in one call (what the cycle runs when given): the per-pod values are
   * read once, not once per node, for plugins that run on every cycle of a plain pod.
   */
  scoreNodes?(pod: KubeObject, feasible: NodeInfo[], state: CycleState): number[];
  /** Maps the raw scores of all feasible nodes (same order as given) to 0..100, for scores relative to the others. */
  normalize?(scores: number[]): number[];
}

/** The plugins one scheduler runs: filters in order (the first failure decides a node), weighted scores. */
export interface Profile {
  filters: FilterPlugin[];
  scores: { plugin: ScorePlugin; weight: number }[];
}

export type Plugin = FilterPlugin | ScorePlugin;

/** Which registered plugins a profile enables, by name, as in KubeSchedulerConfiguration. */
export interface ProfileConfig {
  filter: string[];
  score: { name: string; weight: number }[];
}

/** Builds a profile from plugins registered by name; an unknown or mistyped name is an error at start-up. */
export function buildProfile(registry: Record<string, Plugin>, config: ProfileConfig): Profile {
  const lookup = (name: string, method: 'filter' | 'score') => {
    const p = registry[name];
    if (!p || !(method in p)) throw new Error(`scheduler: no ${method} plugin named "${name}"`);
    return p;
  };
  return {
    filters: config.filter.map((n) => lookup(n, 'filter') as FilterPlugin),
    scores: config.score.map(({ name, weight }) => ({ plugin: lookup(name, 'score') as ScorePlugin, weight })),
  };
}

export type ScheduleResult =
  /** `searched`: how many nodes (from the start given) were looked at, where the next cycle's search begins. */
  | { node: string; score: number; searched?: number }
  /** No node fits: each node's reasons, and the message Kubernetes would show. */
  | { reasons: Record<string, string[]>; message: string };

/** kube-scheduler's minFeasibleNodesToFind: below this many nodes, every node is scored. */
export const MIN_FEASIBLE_NODES_TO_FIND = 100;
const MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND = 5;

/**
 * How many feasible nodes a cycle looks for before it stops filtering (kube-scheduler's numFeasibleNodesToFind
 * with percentageOfNodesToScore unset: 50% less 1% per 125 nodes, at least 5%, and never fewer than 100 nodes),
 * so a decision among 1,000 nodes costs 420 of them, not 1,000, and ever less per node as the cluster grows.
 */
export function numFeasibleNodesToFind(all: number, percentage?: number): number {
  if (all < MIN_FEASIBLE_NODES_TO_FIND) return all;
  let pct = percentage ?? 0;
  if (pct <= 0) pct = Math.max(MIN_FEASIBLE_NODES_PERCENTAGE_TO_FIND, 50 - Math.floor(all / 125));
  if (pct >= 100) return all;
  return Math.max(MIN_FEASIBLE_NODES_TO_FIND, Math.floor((all * pct) / 100));
}

/** Where a cycle starts its search and how many feasible nodes it stops at (default: every node, from the first). */
export interface Sample { start?: number; percentageOfNodesToScore?: number }

/**
 * Picks the node for `pod`: the feasible node with the highest weighted score; equal scores go to the first node
 * by name (kube-scheduler picks at random among them; a fixed order keeps decisions reproducible). With `sample`,
 * the search starts at `sample.start` (round the nodes) and stops once numFeasibleNodesToFind nodes fit, as
 * kube-scheduler's does; a pod that fits nowhere is still judged on every node, so its reasons are complete.
 */
export function schedule(pod: KubeObject, nodeInfos: NodeInfo[], profile: Profile, state: CycleState = new Map(), sample?: Sample): ScheduleResult {
  if (nodeInfos.length === 0) return { reasons: {}, message: NO_NODES_AVAILABLE };
  state.set(ALL_NODES, nodeInfos);
  const reasons: Record<string, string[]> = {};
  const n = nodeInfos.length;
  const want = sample ? numFeasibleNodesToFind(n, sample.percentageOfNodesToScore) : n;
  // Made at its final size (pushing 420 nodes grew it seven times, twice the memory, at every cycle).
  const feasible: NodeInfo[] = new Array(want);
  let found = 0;
  const start = sample?.start ? sample.start % n : 0;
  let searched = 0;
  // The per-pod work is done once here; each node then costs only the checks that apply to this pod.
  const filters = profile.filters.filter((f) => f.preFilter?.(pod, state) !== 'skip');
  while (searched < n && found < want) {
    const info = nodeInfos[(start + searched++) % n];
    const failed = runFilters(pod, info, state, filters);
    if (failed) reasons[info.name] = failed;
    else feasible[found++] = info;
  }
  if (found === 0) return { reasons, message: fitErrorMessage(nodeInfos.length, reasons) };
  feasible.length = found;

  const totals = new Float64Array(found);
  for (const { plugin, weight } of profile.scores) {
    if (plugin.preScore?.(pod, feasible, state) === 'skip') continue;
    let raw: number[];
    if (plugin.scoreNodes) raw = plugin.scoreNodes(pod, feasible, state);
    else {
      raw = new Array(feasible.length);
      for (let i = 0; i < feasible.length; i++) raw[i] = plugin.score(pod, feasible[i], state);
    }
    const scores = plugin.normalize ? plugin.normalize(raw) : raw;
    for (let i = 0; i < scores.length; i++) totals[i] += scores[i] * weight;
  }
  let best = 0;
  for (let i = 1; i < feasible.length; i++) {
    const better = totals[i] > totals[best] || (totals[i] === totals[best] && feasible[i].name < feasible[best].name);
    if (better) best = i;
  }
  return { node: feasible[best].name, score: totals[best], ...(sample && { searched }) };
}

/** The first failing filter's reasons, or undefined when the node fits. */
function runFilters(pod: KubeObject, info: NodeInfo, state: CycleState, filters: FilterPlugin[]): string[] | undefined {
  for (const f of filters) {
    const s = f.filter(pod, info, state);
    if (!s.fits) return s.reasons;
  }
  return undefined;
}
