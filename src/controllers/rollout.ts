// The arithmetic of a Deployment rollout, pure, after Kubernetes' deployment controller (pkg/controller/deployment
// and its deploymentutil): how far the new ReplicaSet may grow, how far old ones may shrink, proportional scaling,
// Recreate's gate and history cleanup. Functions take plain views of ReplicaSets and return the sizes to set.
import type { KubeObject } from '../model/object.ts';
import type { Condition } from '../model/conditions.ts';
import { compareText } from '../model/compare-text.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';

export type IntOrPercent = number | string;

/** What the arithmetic needs of a Deployment's spec, defaults applied. */
export interface RolloutParams {
  replicas: number;
  strategy: 'RollingUpdate' | 'Recreate';
  maxSurge: IntOrPercent;
  maxUnavailable: IntOrPercent;
}

/** What the arithmetic needs of a ReplicaSet. */
export interface ReplicaSetView {
  name: string;
  uid?: string;
  creationTimestamp: string;
  /** spec.replicas: what it is asked to run. */
  replicas: number;
  /** status.replicas: active pods it has. */
  statusReplicas: number;
  readyReplicas: number;
  availableReplicas: number;
  /** The revision annotation; 0 when missing. */
  revision: number;
  desiredReplicas?: number;
  maxReplicas?: number;
  generation: number;
  observedGeneration: number;
  deleting: boolean;
  conditions?: Condition[];
}

const intAnnotation = (rs: KubeObject, key: string): number | undefined => {
  const v = rs.metadata.annotations?.[key];
  if (v === undefined || !/^-?\d+$/.test(v)) return undefined;
  return Number(v);
};

export function viewOf(rs: KubeObject): ReplicaSetView {
  return {
    name: rs.metadata.name,
    uid: rs.metadata.uid,
    creationTimestamp: rs.metadata.creationTimestamp ?? '',
    replicas: rs.spec?.replicas ?? 1,
    statusReplicas: rs.status?.replicas ?? 0,
    readyReplicas: rs.status?.readyReplicas ?? 0,
    availableReplicas: rs.status?.availableReplicas ?? 0,
    revision: intAnnotation(rs, REVISION_ANNOTATION) ?? 0,
    desiredReplicas: intAnnotation(rs, DESIRED_REPLICAS_ANNOTATION),
    maxReplicas: intAnnotation(rs, MAX_REPLICAS_ANNOTATION),
    generation: rs.metadata.generation ?? 1,
    observedGeneration: rs.status?.observedGeneration ?? 0,
    deleting: !!rs.metadata.deletionTimestamp,
    conditions: rs.status?.conditions,
  };
}

/** The Deployment spec's rollout parameters with the API server's defaults. */
export function paramsOf(spec: any): RolloutParams {
  const strategy = spec?.strategy?.type === 'Recreate' ? 'Recreate' : 'RollingUpdate';
  const ru = spec?.strategy?.rollingUpdate ?? {};
  return { replicas: spec?.replicas ?? 1, strategy, maxSurge: ru.maxSurge ?? '25%', maxUnavailable: ru.maxUnavailable ?? '25%' };
}

/** An int, or a percentage of `total` rounded up or down (Kubernetes' GetScaledValueFromIntOrPercent). */
export function scaledValue(v: IntOrPercent, total: number, roundUp: boolean): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+)%$/.exec(v);
  if (!m) throw new Error(`invalid value for IntOrString: invalid type: string is not a percentage (${JSON.stringify(v)})`);
  const exact = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(exact) : Math.floor(exact);
}

/** maxSurge rounded up, maxUnavailable rounded down; both 0 makes unavailable 1, so a rollout can always move. */
export function resolveFenceposts(maxSurge: IntOrPercent, maxUnavailable: IntOrPercent, desired: number): { surge: number; unavailable: number } {
  const surge = scaledValue(maxSurge, desired, true);
  let unavailable = scaledValue(maxUnavailable, desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxSurge(p: RolloutParams): number {
  if (p.strategy !== 'RollingUpdate') return 0;
  return resolveFenceposts(p.maxSurge, p.maxUnavailable, p.replicas).surge;
}

export function maxUnavailable(p: RolloutParams): number {
  if (p.strategy !== 'RollingUpdate' || p.replicas === 0) return 0;
  return Math.min(resolveFenceposts(p.maxSurge, p.maxUnavailable, p.replicas).unavailable, p.replicas);
}

/** Sum of spec.replicas. */
export const replicaCount = (rss: readonly (ReplicaSetView | undefined)[]) => rss.reduce((n, rs) => n + (rs?.replicas ?? 0), 0);
/** Sum of status.replicas. */
export const actualReplicaCount = (rss: readonly (ReplicaSetView | undefined)[]) => rss.reduce((n, rs) => n + (rs?.statusReplicas ?? 0), 0);
export const readyReplicaCount = (rss: readonly (ReplicaSetView | undefined)[]) => rss.reduce((n, rs) => n + (rs?.readyReplicas ?? 0), 0);
export const availableReplicaCount = (rss: readonly (ReplicaSetView | undefined)[]) => rss.reduce((n, rs) => n + (rs?.availableReplicas ?? 0), 0);

/** ReplicaSets asked to run pods. */
export const activeReplicaSets = <T extends ReplicaSetView>(rss: readonly (T | undefined)[]): T[] =>
  rss.filter((rs): rs is T => !!rs && rs.replicas > 0);

// Orderings, as Kubernetes' controller package sorts ReplicaSets.
const byName = (a: ReplicaSetView, b: ReplicaSetView) => compareText(a.name, b.name);
const cmpTime = (a: string, b: string) => (a === b ? 0 : Date.parse(a) - Date.parse(b) || (a < b ? -1 : 1));
/** Oldest first; equal times by name. */
export const byCreation = (a: ReplicaSetView, b: ReplicaSetView) => cmpTime(a.creationTimestamp, b.creationTimestamp) || byName(a, b);
/** Largest first; equal sizes newest first (scaling up favours new ReplicaSets). */
export const bySizeNewer = (a: ReplicaSetView, b: ReplicaSetView) => b.replicas - a.replicas || byCreation(b, a);
/** Largest first; equal sizes oldest first (scaling down takes from old ReplicaSets). */
export const bySizeOlder = (a: ReplicaSetView, b: ReplicaSetView) => b.replicas - a.replicas || byCreation(a, b);
/** Lowest revision first; equal revisions oldest first. */
export const byRevision = (a: ReplicaSetView, b: ReplicaSetView) => a.revision - b.revision || byCreation(a, b);

/** The highest revision among `rss`, 0 when none. */
export const maxRevision = (rss: readonly ReplicaSetView[]) => rss.reduce((m, rs) => Math.max(m, rs.revision), 0);

/** What the new ReplicaSet's size should become in this step (Kubernetes' NewRSNewReplicas). */
export function newRSNewReplicas(p: RolloutParams, allRSs: readonly ReplicaSetView[], newRS: ReplicaSetView): number {
  if (p.strategy === 'Recreate') return p.replicas;
  const surge = maxSurge(p);
  const current = replicaCount(allRSs);
  const maxTotal = p.replicas + surge;
  if (current >= maxTotal) return newRS.replicas; // cannot grow beyond replicas + maxSurge
  const scaleUp = Math.min(maxTotal - current, p.replicas - newRS.replicas);
  return newRS.replicas + scaleUp;
}

/** One size change to make: ReplicaSet `name` to `replicas`. */
export interface Resize { name: string; replicas: number }

/**
 * Kubernetes' reconcileOldReplicaSets: how far the old ReplicaSets may shrink now without the deployment dropping
 * below replicas - maxUnavailable available pods. First it removes old replicas that are not available (they
 * serve nobody, and would otherwise block the rollout), then scales down within what availability allows.
 * `oldRSs` are all old ReplicaSets; returns the resizes, oldest ReplicaSets first.
 */
export function reconcileOldReplicaSets(p: RolloutParams, oldRSs: readonly ReplicaSetView[], newRS: ReplicaSetView): Resize[] {
  const olds = activeReplicaSets(oldRSs).map((rs) => ({ ...rs })).sort(byCreation);
  if (replicaCount(olds) === 0) return [];
  const allPods = replicaCount(olds) + newRS.replicas;
  const minAvailable = p.replicas - maxUnavailable(p);
  const newRSUnavailable = newRS.replicas - available(newRS);
  const maxScaledDown = allPods - minAvailable - newRSUnavailable;
  if (maxScaledDown <= 0) return [];

  const sizes = new Map<string, number>();
  // 1. Unhealthy old replicas go first, up to maxScaledDown.
  let cleaned = 0;
  for (const rs of olds) {
    if (cleaned >= maxScaledDown) break;
    const unhealthy = rs.replicas - available(rs);
    if (rs.replicas === 0 || unhealthy <= 0) continue;
    const down = Math.min(maxScaledDown - cleaned, unhealthy);
    rs.replicas -= down;
    cleaned += down;
    sizes.set(rs.name, rs.replicas);
  }
  // 2. Then healthy ones, as far as availability above minAvailable allows.
  const availableNow = availableReplicaCount([...olds, newRS].map((rs) => ({ ...rs, availableReplicas: available(rs) })));
  if (availableNow > minAvailable) {
    const total = availableNow - minAvailable;
    let done = 0;
    for (const rs of olds) {
      if (done >= total) break;
      if (rs.replicas === 0) continue;
      const down = Math.min(rs.replicas, total - done);
      rs.replicas -= down;
      done += down;
      sizes.set(rs.name, rs.replicas);
    }
  }
  return olds.filter((rs) => sizes.has(rs.name)).map((rs) => ({ name: rs.name, replicas: sizes.get(rs.name)! }));
}

/**
 * Available pods a ReplicaSet can be counted on for. Its status can lag a scale-down (spec already lowered, the
 * pods not yet deleted); those pods are about to go, so they never count beyond spec.replicas. Kubernetes sums the
 * raw status here; the cap only makes the arithmetic safe against that lag.
 */
const available = (rs: ReplicaSetView) => Math.max(0, Math.min(rs.availableReplicas, rs.replicas));

/** The new ReplicaSet runs all replicas, all available, for the current spec.replicas (Kubernetes' IsSaturated). */
export function isSaturated(p: RolloutParams, rs: ReplicaSetView | undefined): boolean {
  if (!rs) return false;
  return rs.desiredReplicas === p.replicas && rs.replicas === p.replicas && rs.availableReplicas === p.replicas;
}

/** The only active ReplicaSet, or the newest when none is active; undefined when several are active. */
export function findActiveOrLatest(newRS: ReplicaSetView | undefined, oldRSs: readonly ReplicaSetView[]): ReplicaSetView | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const olds = [...oldRSs].sort(byCreation).reverse();
  const active = activeReplicaSets([...olds, newRS]);
  if (active.length === 0) return newRS ?? olds[0];
  if (active.length === 1) return active[0];
  return undefined;
}

/** Some active ReplicaSet was last sized for another spec.replicas: the user scaled (Kubernetes' isScalingEvent). */
export function isScalingEvent(p: RolloutParams, allRSs: readonly (ReplicaSetView | undefined)[]): boolean {
  return activeReplicaSets(allRSs).some((rs) => rs.desiredReplicas !== undefined && rs.desiredReplicas !== p.replicas);
}

/** What `scale` decided: the sizes to set, and whether replica annotations are refreshed even when a size stays. */
export interface ScalePlan {
  resizes: Resize[];
  /** Proportional scaling rewrites desired/max-replicas on every active ReplicaSet, even one whose size stays. */
  refreshAnnotations: boolean;
}

/**
 * Kubernetes' `scale`: after spec.replicas changed (or while paused), resize without a rollout step. One active
 * ReplicaSet takes the whole count; a saturated new one leaves old ones at 0; otherwise, in a rolling update,
 * the change is shared among the active ReplicaSets in proportion to their sizes. `statusReplicas` is the
 * Deployment's status.replicas, the fallback for a ReplicaSet without a max-replicas annotation.
 */
export function scale(p: RolloutParams, newRS: ReplicaSetView | undefined, oldRSs: readonly ReplicaSetView[], statusReplicas: number): ScalePlan {
  const one = findActiveOrLatest(newRS, oldRSs);
  if (one) return { resizes: one.replicas === p.replicas ? [] : [{ name: one.name, replicas: p.replicas }], refreshAnnotations: false };
  if (isSaturated(p, newRS)) {
    return { resizes: activeReplicaSets(oldRSs).map((rs) => ({ name: rs.name, replicas: 0 })), refreshAnnotations: false };
  }
  if (p.strategy !== 'RollingUpdate') return { resizes: [], refreshAnnotations: false };

  const all = activeReplicaSets([...oldRSs, newRS]);
  const allowed = p.replicas > 0 ? p.replicas + maxSurge(p) : 0;
  const toAdd = allowed - replicaCount(all);
  if (toAdd > 0) all.sort(bySizeNewer);
  else if (toAdd < 0) all.sort(bySizeOlder);
  let added = 0;
  const sizes = all.map((rs) => {
    if (toAdd === 0) return rs.replicas;
    const share = proportion(rs, p, toAdd, added, statusReplicas);
    added += share;
    return rs.replicas + share;
  });
  // Leftovers from rounding go to the largest ReplicaSet.
  if (toAdd !== 0 && sizes.length) sizes[0] = Math.max(0, sizes[0] + toAdd - added);
  return { resizes: all.map((rs, i) => ({ name: rs.name, replicas: sizes[i] })), refreshAnnotations: true };
}

/** Kubernetes' GetReplicaSetProportion: this ReplicaSet's share of `toAdd`, never past what is left to add. */
function proportion(rs: ReplicaSetView, p: RolloutParams, toAdd: number, added: number, statusReplicas: number): number {
  if (rs.replicas === 0 || toAdd === 0 || toAdd === added) return 0;
  const fraction = replicaSetFraction(rs, p, statusReplicas);
  const allowed = toAdd - added;
  return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
}

function replicaSetFraction(rs: ReplicaSetView, p: RolloutParams, statusReplicas: number): number {
  if (p.replicas === 0) return -rs.replicas;
  const maxNow = p.replicas + maxSurge(p);
  let maxBefore = rs.maxReplicas ?? 0;
  if (!maxBefore) {
    maxBefore = statusReplicas; // no annotation (someone scaled by hand): the deployment's current size
    if (!maxBefore) return 0;
  }
  return roundHalfAway((rs.replicas * maxNow) / maxBefore) - rs.replicas;
}

/** Go's math.Round: halves away from zero. */
const roundHalfAway = (x: number) => Math.sign(x) * Math.round(Math.abs(x));

/**
 * Recreate's gate: old pods must be gone (not only asked to stop) before new ones start. Any pod of an old
 * ReplicaSet that is not Succeeded or Failed counts, including one being deleted, which may still be running.
 */
export function oldPodsRunning(newRS: ReplicaSetView | undefined, oldRSs: readonly ReplicaSetView[], podsByRS: ReadonlyMap<string, readonly KubeObject[]>): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  for (const [uid, pods] of podsByRS) {
    if (newRS && newRS.uid === uid) continue;
    if (pods.some((pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed')) return true;
  }
  return false;
}

/**
 * Kubernetes' cleanupDeployment: the old ReplicaSets beyond revisionHistoryLimit to delete, lowest revision first.
 * Only those fully scaled down, without pods, whose status is current and which are not already being deleted.
 */
export function replicaSetsToPrune(oldRSs: readonly ReplicaSetView[], revisionHistoryLimit: number | undefined): ReplicaSetView[] {
  if (revisionHistoryLimit === undefined || revisionHistoryLimit === null) return [];
  const cleanable = oldRSs.filter((rs) => !rs.deleting).sort(byRevision);
  const diff = cleanable.length - revisionHistoryLimit;
  if (diff <= 0) return [];
  return cleanable.slice(0, diff).filter((rs) => rs.statusReplicas === 0 && rs.replicas === 0 && rs.generation <= rs.observedGeneration);
}
