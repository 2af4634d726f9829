// The scheduler's cache (kube-scheduler's internal cache and snapshot): one NodeInfo per node, kept current from
// the informers' events and the scheduler's own assumptions, so a decision reads a ready snapshot instead of
// regrouping every pod of the cluster (which made each decision cost the whole cluster).
import type { KubeObject } from '../model/object.ts';
import { controllerOf, isPodTerminal } from '../model/pod.ts';
import { keyOf } from '../model/key.ts';
import { addPod, countsAlike, hasPodAffinity, nodeInfo, removePod, replacePod, type NodeInfo } from './node-info.ts';
import { summarize, type ClusterSummary } from './cluster-summary.ts';
import { compareText } from '../model/compare-text.ts';

interface Placement { node: string; pod: KubeObject; assumed: boolean }

export class SchedulerCache {
  private infos = new Map<string, NodeInfo>();
  /** Pods counted on a node, by key: bound (as the informer shows them) or assumed by the scheduler. */
  private placed = new Map<string, Placement>();
  /** Keys placed on each node name, whether the cache has its Node or not (yet), so a new Node counts them. */
  private byNode = new Map<string, Set<string>>();
  private sorted?: NodeInfo[];
  /**
   * Pods not being deleted, by controller uid and then node name (NodeInfo.controllers the other way round):
   * SelectorSpread reads the one map of the pod's controller in a cycle instead of one map on each of 420 nodes,
   * whose cache misses were most of a decision's cost at 1,000 nodes.
   */
  private byController = new Map<string, Map<string, number>>();
  /** The snapshot's summary, counted again only after a change it counts (not after a heartbeat). */
  private counted?: ClusterSummary;

  /** A Node added or changed (heartbeats too: those cost a field copy, not a recount of its pods). */
  setNode(node: KubeObject): void {
    const name = node.metadata.name;
    const fresh = nodeInfo(node, []);
    const cur = this.infos.get(name);
    if (cur) {
      if (cur.ready !== fresh.ready || Boolean(cur.node.spec?.unschedulable) !== Boolean(node.spec?.unschedulable) || cur.node.spec?.taints !== node.spec?.taints) this.counted = undefined;
      cur.node = node;
      cur.allocatable = fresh.allocatable;
      cur.ready = fresh.ready;
      return;
    }
    for (const key of this.byNode.get(name) ?? []) addPod(fresh, this.placed.get(key)!.pod);
    this.infos.set(name, fresh);
    this.sorted = undefined;
    this.counted = undefined;
  }

  removeNode(name: string): void {
    if (this.infos.delete(name)) this.sorted = this.counted = undefined; // its pods stay placed, counted again if it returns
  }

  /** An informer add or update: the pod counts on its node while bound and not finished. */
  setPod(pod: KubeObject): void {
    const key = keyOf(pod);
    const cur = this.placed.get(key);
    const node = pod.spec?.nodeName;
    // Still unbound in the informer, but assumed by us: the binding is on its way; the assumption stays, of the
    // pod as it is now.
    if (!node && cur?.assumed && cur.pod.metadata.uid === pod.metadata.uid && !isPodTerminal(pod)) return this.assume(pod, cur.node);
    // Most updates of a bound pod are its node's status writes: the same spec on the same node, so the node's sums
    // stay as they are and only the object is swapped (no recount of its requests).
    if (cur && !cur.assumed && node === cur.node && countsAlike(cur.pod, pod) && !isPodTerminal(pod)) {
      const info = this.infos.get(node);
      if (!info || replacePod(info, cur.pod, pod)) {
        cur.pod = pod;
        return;
      }
    }
    this.unplace(key);
    if (node && !isPodTerminal(pod)) this.place(key, { node, pod, assumed: false });
  }

  deletePod(pod: KubeObject): void {
    this.unplace(keyOf(pod));
  }

  /** The scheduler decided: count the pod on `node` before the informer shows the binding. */
  assume(pod: KubeObject, node: string): void {
    const key = keyOf(pod);
    this.unplace(key);
    this.place(key, { node, pod: { ...pod, spec: { ...pod.spec, nodeName: node } }, assumed: true });
  }

  /** The binding failed: an assumption is dropped (a pod the informer shows bound stays). */
  forget(key: string): void {
    if (this.placed.get(key)?.assumed) this.unplace(key);
  }

  /**
   * Every node's info, sorted by name. The infos are live: read them within one synchronous scheduling cycle
   * (no await in between) and never change them; that is what makes this a snapshot without a copy.
   */
  snapshot(): NodeInfo[] {
    this.sorted ??= [...this.infos.values()].sort((a, b) => compareText(a.name, b.name));
    return this.sorted;
  }

  /** What the snapshot's nodes have in common (cluster-summary.ts), for the plugins' PreFilter and PreScore. */
  summary(): ClusterSummary {
    return (this.counted ??= summarize(this.snapshot()));
  }

  /** How many pods of controller `uid` (not being deleted) each node has; nodes without any are not in it. */
  podsOfController(uid: string): ReadonlyMap<string, number> | undefined {
    return this.byController.get(uid);
  }

  private countController(p: Placement, sign: 1 | -1): void {
    const uid = controllerOf(p.pod)?.uid;
    if (!uid || p.pod.metadata.deletionTimestamp) return;
    let nodes = this.byController.get(uid);
    if (!nodes) this.byController.set(uid, (nodes = new Map()));
    const n = (nodes.get(p.node) ?? 0) + sign;
    if (n) nodes.set(p.node, n);
    else if (nodes.delete(p.node) && !nodes.size) this.byController.delete(uid);
  }

  private place(key: string, p: Placement): void {
    this.placed.set(key, p);
    this.countController(p, 1);
    (this.byNode.get(p.node) ?? this.byNode.set(p.node, new Set()).get(p.node)!).add(key);
    const info = this.infos.get(p.node);
    if (info) addPod(info, p.pod);
    if (info && hasPodAffinity(p.pod)) this.counted = undefined;
  }

  private unplace(key: string): void {
    const p = this.placed.get(key);
    if (!p) return;
    this.placed.delete(key);
    this.countController(p, -1);
    this.byNode.get(p.node)?.delete(key);
    const info = this.infos.get(p.node);
    if (info) removePod(info, p.pod);
    if (info && hasPodAffinity(p.pod)) this.counted = undefined;
  }
}
