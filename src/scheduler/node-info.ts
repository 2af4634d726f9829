// What the scheduler knows about one node: the Node, the pods bound to it, and what they request, in integer units
// (millicores, bytes) as kube-scheduler's NodeInfo keeps them, so sums never drift by floating point.
import { isTrue } from '../model/conditions.ts';
import type { KubeObject } from '../model/object.ts';
import { controllerOf, isPodTerminal, podRequests } from '../model/pod.ts';
import { parseQuantity } from '../model/quantity.ts';
import { compareText } from '../model/compare-text.ts';

export interface Amounts { milliCpu: number; memory: number }

export interface NodeInfo {
  name: string;
  node: KubeObject;
  /** Non-terminal pods bound to the node, those being deleted included: they hold resources until removed. */
  pods: KubeObject[];
  /** Its Ready condition is True: read once per Node version, not once per pod and node. */
  ready: boolean;
  /** `status.allocatable`; a missing entry is 0, as in Kubernetes. */
  allocatable: Amounts & { pods: number };
  /** The sum of the pods' requests, what NodeResourcesFit compares against. */
  requested: Amounts;
  /** The same with kube-scheduler's defaults (100m, 200Mi) for containers without requests, for scoring only. */
  nonZeroRequested: Amounts;
  /** Pods not being deleted, counted by their controller's uid: what SelectorSpread scores, without a scan. */
  controllers: Map<string, number>;
  /** The pods with pod affinity or anti-affinity terms (kube-scheduler's PodsWithAffinity), so InterPodAffinity
   *  looks only at these for a pod without terms of its own. */
  withAffinity: KubeObject[];
}

export const hasPodAffinity = (pod: KubeObject) => Boolean(pod.spec?.affinity?.podAffinity || pod.spec?.affinity?.podAntiAffinity);

/** kube-scheduler's DefaultMilliCPURequest and DefaultMemoryRequest. */
export const DEFAULT_MILLI_CPU = 100;
export const DEFAULT_MEMORY = 200 * 2 ** 20;

const quantity = (q: unknown) => {
  if (q === undefined || q === null) return 0;
  try { return parseQuantity(q as string | number); } catch { return 0; } // a node with a garbled figure offers nothing
};
// Quantities round up to whole units, as Kubernetes' MilliValue and Value do; the epsilon absorbs float noise.
const ceil = (v: number) => Math.ceil(v - 1e-9);

/** What a pod requests (model/pod.ts podRequests: app and sidecar containers, init containers, overhead), a limit standing in for a missing request. */
export function requestOf(pod: KubeObject): Amounts {
  const r = podRequests(pod.spec);
  return { milliCpu: ceil(r.cpu * 1000), memory: ceil(r.memory) };
}

/** The same with kube-scheduler's non-zero defaults for each container that names no cpu or memory (its NonMissingContainerRequests). */
export function nonZeroRequestOf(pod: KubeObject): Amounts {
  const r = podRequests(pod.spec, { cpu: DEFAULT_MILLI_CPU / 1000, memory: DEFAULT_MEMORY });
  return { milliCpu: ceil(r.cpu * 1000), memory: ceil(r.memory) };
}

export function nodeInfo(node: KubeObject, pods: KubeObject[]): NodeInfo {
  const alloc = node.status?.allocatable ?? {};
  const info: NodeInfo = {
    name: node.metadata.name,
    node,
    pods: [],
    ready: isTrue(node.status?.conditions, 'Ready'),
    allocatable: { milliCpu: ceil(quantity(alloc.cpu) * 1000), memory: ceil(quantity(alloc.memory)), pods: Math.floor(quantity(alloc.pods)) },
    requested: { milliCpu: 0, memory: 0 },
    nonZeroRequested: { milliCpu: 0, memory: 0 },
    controllers: new Map(),
    withAffinity: [],
  };
  for (const p of pods) addPod(info, p);
  return info;
}

/** `info` with `pod` added: a new NodeInfo, the given one unchanged (for what-if placements, like a plan's). */
export function withPod(info: NodeInfo, pod: KubeObject): NodeInfo {
  const copy = { ...info, pods: [...info.pods], requested: { ...info.requested }, nonZeroRequested: { ...info.nonZeroRequested }, controllers: new Map(info.controllers), withAffinity: [...info.withAffinity] };
  addPod(copy, pod);
  return copy;
}

/** Counts `pod` on the node (in place: the scheduler's cache keeps its NodeInfos current this way). */
export function addPod(info: NodeInfo, pod: KubeObject): void {
  account(info, pod, 1);
  info.pods.push(pod);
  if (hasPodAffinity(pod)) info.withAffinity.push(pod);
}

/** Takes `pod` (this very object, as added) off the node; false when it was not there. */
export function removePod(info: NodeInfo, pod: KubeObject): boolean {
  const at = info.pods.indexOf(pod);
  if (at < 0) return false;
  info.pods.splice(at, 1);
  const a = info.withAffinity.indexOf(pod);
  if (a >= 0) info.withAffinity.splice(a, 1);
  account(info, pod, -1);
  return true;
}

/**
 * Puts `pod` where `old` (this very object, as added) was, when nothing the node counts differs between them: the
 * same spec, owners and deletion mark (a status write, say). False, changing nothing, when `old` is not there.
 */
export function replacePod(info: NodeInfo, old: KubeObject, pod: KubeObject): boolean {
  const at = info.pods.indexOf(old);
  if (at < 0) return false;
  info.pods[at] = pod;
  const a = info.withAffinity.indexOf(old);
  if (a >= 0) info.withAffinity[a] = pod;
  return true;
}

/** Whether the node's sums and counts are the same with `b` as with `a` (their requests, affinity and owner). */
export const countsAlike = (a: KubeObject, b: KubeObject): boolean => a.spec === b.spec
  && a.metadata.ownerReferences === b.metadata.ownerReferences && a.metadata.deletionTimestamp === b.metadata.deletionTimestamp;

function account(info: NodeInfo, pod: KubeObject, sign: 1 | -1): void {
  const r = requestOf(pod), nz = nonZeroRequestOf(pod);
  info.requested.milliCpu += sign * r.milliCpu;
  info.requested.memory += sign * r.memory;
  info.nonZeroRequested.milliCpu += sign * nz.milliCpu;
  info.nonZeroRequested.memory += sign * nz.memory;
  const uid = controllerOf(pod)?.uid;
  if (uid && !pod.metadata.deletionTimestamp) {
    const n = (info.controllers.get(uid) ?? 0) + sign;
    if (n) info.controllers.set(uid, n); else info.controllers.delete(uid);
  }
}

/** A snapshot of every node, sorted by name, with the non-terminal pods bound to each. */
export function nodeInfos(nodes: KubeObject[], pods: KubeObject[]): NodeInfo[] {
  const byNode = new Map<string, KubeObject[]>();
  for (const p of pods) {
    const n = p.spec?.nodeName;
    if (!n || isPodTerminal(p)) continue; // a finished pod no longer holds anything
    (byNode.get(n) ?? byNode.set(n, []).get(n)!).push(p);
  }
  return [...nodes]
    .sort((a, b) => compareText(a.metadata.name, b.metadata.name))
    .map((n) => nodeInfo(n, byNode.get(n.metadata.name) ?? []));
}
