// A DaemonSet's arithmetic (pure), after kube-controller-manager's daemon controller: per node, which pods to
// create and delete (manage: one pod on each node that should run it, none elsewhere, failed ones replaced), the
// rolling update's steps within maxUnavailable or maxSurge, and the status counts.
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { isPodReady } from '../model/pod.ts';
import { CONTROLLER_REVISION_HASH_LABEL, type NodeVerdict } from './daemonset-pods.ts';
import { compareText } from '../model/compare-text.ts';

export interface NodeDaemonPods {
  name: string;
  verdict: NodeVerdict;
  /** The DaemonSet's pods on (or pinned to) this node, not being deleted. */
  pods: KubeObject[];
}

export interface DaemonSetActions {
  /** Nodes to create a pod on (of the current revision). */
  create: string[];
  delete: KubeObject[];
}

const created = (p: KubeObject) => p.metadata.creationTimestamp ?? '';
/** Oldest first; ties by name, so choices are reproducible. */
const byAge = (a: KubeObject, b: KubeObject) => compareText(created(a), created(b)) || compareText(a.metadata.name, b.metadata.name);
export const isUpdated = (p: KubeObject, hash: string) => p.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === hash;

/** Ready for at least minReadySeconds (Kubernetes' IsPodAvailable). */
export function isAvailable(p: KubeObject, minReadySeconds: number, now: Date): boolean {
  if (!isPodReady(p)) return false;
  if (!minReadySeconds) return true;
  const since = Date.parse(getCondition(p.status?.conditions, 'Ready')?.lastTransitionTime ?? '');
  return !Number.isNaN(since) && since + minReadySeconds * 1000 <= now.getTime();
}

/** An int or a percentage of `total`: maxSurge rounds up, maxUnavailable down, as Kubernetes' GetScaledValueFromIntOrPercent. */
function scaled(v: number | string | undefined, total: number, roundUp: boolean, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) return Number(v) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

/** maxSurge and maxUnavailable of a RollingUpdate over `desired` nodes; both 0 would stall, so unavailable becomes 1. */
export function rollingBudget(ds: KubeObject, desired: number): { maxSurge: number; maxUnavailable: number } {
  const ru = ds.spec?.updateStrategy?.rollingUpdate ?? {};
  const maxSurge = scaled(ru.maxSurge, desired, true, 0);
  let maxUnavailable = scaled(ru.maxUnavailable, desired, false, 1);
  if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
  return { maxSurge, maxUnavailable };
}

const isRolling = (ds: KubeObject) => (ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'RollingUpdate';

/** What one sync does, from the nodes' state. */
export function daemonSetActions(ds: KubeObject, nodes: NodeDaemonPods[], hash: string, now: Date): DaemonSetActions {
  const minReady = ds.spec?.minReadySeconds ?? 0;
  const desired = nodes.filter((n) => n.verdict.shouldRun).length;
  const { maxSurge, maxUnavailable } = rollingBudget(ds, desired);
  const surging = isRolling(ds) && maxSurge > 0;
  const create: string[] = [], del: KubeObject[] = [];
  const kept = new Map<string, KubeObject[]>();

  // manage: the pods each node should have.
  for (const n of nodes) {
    const pods = [...n.pods].sort(byAge);
    if (!n.verdict.shouldContinueRunning || (!n.verdict.shouldRun && !pods.length)) {
      del.push(...pods);
      continue;
    }
    const failed = pods.filter((p) => p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded');
    del.push(...failed); // replaced on a later sync, once the deletion is seen
    const running = pods.filter((p) => !failed.includes(p));
    if (!running.length) {
      if (n.verdict.shouldRun && !failed.length) create.push(n.name);
      continue;
    }
    // Several pods: keep the oldest (while surging, the oldest of each revision), delete the rest.
    let keep: KubeObject[];
    if (surging) {
      const oldest = running.find((p) => !isUpdated(p, hash)), newest = running.find((p) => isUpdated(p, hash));
      keep = [oldest, newest].filter((p): p is KubeObject => !!p);
    } else keep = [running[0]];
    del.push(...running.filter((p) => !keep.includes(p)));
    if (n.verdict.shouldRun) kept.set(n.name, keep);
  }
  if (!isRolling(ds)) return { create, delete: del }; // OnDelete: new pods get the new template, old ones stay

  const nodesInOrder = [...kept.keys()].sort();
  if (maxSurge === 0) {
    let unavailable = 0;
    const replace: KubeObject[] = [], candidates: KubeObject[] = [];
    for (const name of nodesInOrder) {
      const pods = kept.get(name)!;
      const fresh = pods.find((p) => isUpdated(p, hash)), old = pods.find((p) => !isUpdated(p, hash));
      if (fresh) { if (!isAvailable(fresh, minReady, now)) unavailable++; continue; }
      if (!old) continue;
      if (!isAvailable(old, minReady, now)) replace.push(old); // already down: replace at once
      else candidates.push(old);
    }
    // Nodes that should run a pod and have none count as unavailable too.
    unavailable += nodes.filter((n) => n.verdict.shouldRun && !kept.has(n.name)).length;
    const room = Math.max(0, Math.min(maxUnavailable - unavailable, candidates.length));
    del.push(...replace, ...candidates.slice(0, room));
  } else {
    let surge = 0;
    const replaceNow: string[] = [], candidates: string[] = [];
    for (const name of nodesInOrder) {
      const pods = kept.get(name)!;
      const fresh = pods.find((p) => isUpdated(p, hash)), old = pods.find((p) => !isUpdated(p, hash));
      if (!old) continue;
      if (!fresh) {
        if (!isAvailable(old, minReady, now)) replaceNow.push(name);
        else candidates.push(name);
        continue;
      }
      if (!isAvailable(fresh, minReady, now)) { surge++; continue; }
      del.push(old); // the new one is available: the old one goes
    }
    const room = Math.max(0, Math.min(maxSurge - surge, candidates.length));
    create.push(...replaceNow, ...candidates.slice(0, room));
  }
  return { create, delete: del };
}

export interface DaemonSetCounts {
  desiredNumberScheduled: number;
  currentNumberScheduled: number;
  numberMisscheduled: number;
  numberReady: number;
  numberAvailable: number;
  numberUnavailable: number;
  updatedNumberScheduled: number;
}

/** The status counts: per node that should run it, its oldest pod decides ready, available and updated. */
export function daemonSetCounts(ds: KubeObject, nodes: NodeDaemonPods[], hash: string, now: Date): DaemonSetCounts {
  const c: DaemonSetCounts = { desiredNumberScheduled: 0, currentNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0, numberAvailable: 0, numberUnavailable: 0, updatedNumberScheduled: 0 };
  const minReady = ds.spec?.minReadySeconds ?? 0;
  for (const n of nodes) {
    const scheduled = n.pods.length > 0;
    if (!n.verdict.shouldRun) {
      if (scheduled) c.numberMisscheduled++;
      continue;
    }
    c.desiredNumberScheduled++;
    if (!scheduled) continue;
    c.currentNumberScheduled++;
    const pod = [...n.pods].sort(byAge)[0];
    if (isPodReady(pod)) {
      c.numberReady++;
      if (isAvailable(pod, minReady, now)) c.numberAvailable++;
    }
    if (isUpdated(pod, hash)) c.updatedNumberScheduled++;
  }
  c.numberUnavailable = c.desiredNumberScheduled - c.numberAvailable;
  return c;
}
