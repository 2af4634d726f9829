// What the nodes of a snapshot have in common, counted once rather than asked of every node in every cycle: a
// filter that no node could fail is skipped for the cycle (kube-scheduler's PreFilter Skip), so a plain pod costs
// no NodeUnschedulable, NodeReady or TaintToleration call per node on a cluster with no cordoned, unready or tainted
// node. The scheduler's cache keeps it for its snapshot; a snapshot without one (the plan's) counts it on first use.
import type { KubeObject } from '../model/object.ts';
import type { Taint } from '../model/taints.ts';
import type { CycleState } from './framework.ts';
import type { NodeInfo } from './node-info.ts';

export interface ClusterSummary {
  /** Nodes with spec.unschedulable. */
  cordoned: number;
  notReady: number;
  /** Nodes with a NoSchedule or NoExecute taint. */
  blockingTaints: number;
  /** Nodes with a PreferNoSchedule taint. */
  preferNoSchedule: number;
  /** Pods on the nodes with pod affinity or anti-affinity terms (NodeInfo.withAffinity). */
  podsWithAffinity: number;
}

const taintsOf = (node: KubeObject): Taint[] => node.spec?.taints ?? [];

export function summarize(nodes: readonly NodeInfo[]): ClusterSummary {
  const s: ClusterSummary = { cordoned: 0, notReady: 0, blockingTaints: 0, preferNoSchedule: 0, podsWithAffinity: 0 };
  for (const info of nodes) {
    if (info.node.spec?.unschedulable) s.cordoned++;
    if (!info.ready) s.notReady++;
    const taints = taintsOf(info.node);
    if (taints.some((t) => t.effect === 'NoSchedule' || t.effect === 'NoExecute')) s.blockingTaints++;
    if (taints.some((t) => t.effect === 'PreferNoSchedule')) s.preferNoSchedule++;
    s.podsWithAffinity += info.withAffinity.length;
  }
  return s;
}

const SUMMARY = 'framework/summary';

/** Puts a summary kept elsewhere (the cache's) into a cycle's state. */
export const withSummary = (state: CycleState, s: ClusterSummary): CycleState => state.set(SUMMARY, s);

/** The summary of the cycle's snapshot: the one given, or counted now from `nodes` and kept for the cycle. */
export function summaryOf(state: CycleState, nodes: () => readonly NodeInfo[]): ClusterSummary {
  let s = state.get(SUMMARY) as ClusterSummary | undefined;
  if (!s) state.set(SUMMARY, (s = summarize(nodes())));
  return s;
}
