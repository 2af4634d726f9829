// The plan: what applying a desired set to the live state would do, in the order it would do it. Pure.
import type { KubeObject } from '../model/object.ts';
import { carryAllocated } from '../model/allocated.ts';
import { keyOf, pair } from './pair.ts';
import { diff, type Operation } from './diff.ts';
import { compareApplyOrder, comparePruneOrder } from './order.ts';

export type Action = 'create' | 'update' | 'prune' | 'unchanged';

export interface PlanStep {
  action: Action;
  key: string;
  kind: string;
  namespace?: string;
  name: string;
  /** The object to write (create/update) or the live object to delete (prune). */
  object: KubeObject;
  /** For updates: the JSON patch from live to desired (named lists keyed by name). */
  patch?: Operation[];
  /** The HorizontalPodAutoscaler that owns this object's spec.replicas: git's value gives way to the live one. */
  replicasOwner?: string;
}

export interface Plan {
  /** Creates and updates in apply order, then prunes in reverse order. Unchanged objects are not steps. */
  steps: PlanStep[];
  create: number;
  update: number;
  prune: number;
  unchanged: number;
  /** Keys git owns once this plan is applied: the next plan's inventory. */
  inventory: string[];
  /** Objects whose spec.replicas a HorizontalPodAutoscaler owns and git gives otherwise: not a difference. */
  autoscaled: { key: string; kind: string; namespace?: string; name: string; hpa: string; git?: number; live: number }[];
}

/**
 * Targets (`<kind>/<namespace>/<name>`) of the HorizontalPodAutoscalers git describes, by HPA name: while an HPA
 * exists it owns its target's replicas (git owns the rest), as `kubectl apply` users leave replicas out for it.
 */
export function autoscaledTargets(desired: KubeObject[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const h of desired) {
    const ref = h.kind === 'HorizontalPodAutoscaler' ? h.spec?.scaleTargetRef : undefined;
    if (ref?.kind && ref?.name) out.set(`${ref.kind}/${h.metadata.namespace ?? 'default'}/${ref.name}`, h.metadata.name);
  }
  return out;
}

export interface PlanInput {
  desired: KubeObject[];
  /** Live objects of the kinds git may own (controller-made ones included: the inventory keeps them safe). */
  live: KubeObject[];
  /** Keys of the objects git applied before; only these may be pruned. */
  inventory: Iterable<string>;
  /**
   * Keep this plan's comparisons for the next (default). A review's plan does not: its live objects may be copies
   * (serve's GET /plan lists them unshared), and remembering them would keep those copies alive and make the sync
   * loop's next plan diff its unchanged objects again.
   */
  remember?: boolean;
}

/**
 * The last comparison of each shared desired object (frozen: the loader's, LoadOptions.shared) with a live one. The
 * store replaces a live object on every change and never changes one in place, so the same pair of objects gives
 * the same answer: a commit diffs only the objects it changed, and those whose live object changed since.
 */
const compared = new WeakMap<KubeObject, { live: KubeObject; desired?: KubeObject; patch: Operation[] }>();
/** One empty patch for every unchanged pair (10,000 remembered comparisons, no 10,000 empty arrays). */
const NO_CHANGE: Operation[] = [];

/** The desired keys, sorted; the last answer again while the set of keys is the same (most commits). */
let lastKeys: { set: Set<string>; sorted: string[] } = { set: new Set(), sorted: [] };
function sortedKeys(desired: KubeObject[]): string[] {
  const set = new Set(desired.map(keyOf));
  if (set.size !== lastKeys.set.size || [...set].some((k) => !lastKeys.set.has(k))) lastKeys = { set, sorted: [...set].sort() };
  return [...lastKeys.sorted];
}

export function makePlan({ desired, live, inventory, remember = true }: PlanInput): Plan {
  const owned = new Set(inventory);
  const hpas = autoscaledTargets(desired);
  const autoscaled: Plan['autoscaled'] = [];
  const apply: PlanStep[] = [];
  const prune: PlanStep[] = [];
  let unchanged = 0;
  for (const p of pair(desired, live)) {
    const o = p.desired ?? p.live!;
    const hpa = hpas.size > 0 && p.desired && p.live ? hpas.get(`${o.kind}/${o.metadata.namespace ?? 'default'}/${o.metadata.name}`) : undefined;
    // The same shared desired object against the same live one as last time: the same answer, no diff again.
    const memo = p.desired && p.live && !hpa && Object.isFrozen(p.desired) ? compared.get(p.desired) : undefined;
    if (memo && memo.live === p.live && !memo.patch.length) {
      unchanged++;
      continue;
    }
    const base = { key: p.key, kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name };
    if (p.desired && !p.live) apply.push({ ...base, action: 'create', object: p.desired });
    else if (p.desired && p.live) {
      if (memo && memo.live === p.live) {
        apply.push({ ...base, action: 'update', object: memo.desired!, patch: memo.patch });
        continue;
      }
      // What the cluster allocated (a clusterIP, a revision annotation) is not a difference from git.
      let desired = carryAllocated(p.live, p.desired);
      const liveReplicas = p.live.spec?.replicas;
      if (hpa && typeof liveReplicas === 'number' && desired.spec) {
        if (desired.spec.replicas !== liveReplicas) autoscaled.push({ ...base, hpa, git: desired.spec.replicas, live: liveReplicas });
        desired = { ...desired, spec: { ...desired.spec, replicas: liveReplicas } };
      }
      const patch = diff(desired, p.live);
      // The desired object with what the cluster allocated is kept only for a difference: an unchanged pair needs
      // none, and a copy of every Deployment and Service was most of what the memory of the last plan held.
      if (remember && !hpa && Object.isFrozen(p.desired)) compared.set(p.desired, patch.length ? { live: p.live, desired, patch } : { live: p.live, patch: NO_CHANGE });
      if (patch.length) apply.push({ ...base, action: 'update', object: desired, patch, ...(hpa && { replicasOwner: hpa }) });
      else unchanged++;
    } else if (owned.has(p.key)) prune.push({ ...base, action: 'prune', object: p.live! });
    // else: live but never applied from git (made by a controller): not ours to prune.
  }
  apply.sort((a, b) => compareApplyOrder(a.object, b.object));
  prune.sort((a, b) => comparePruneOrder(a.object, b.object));
  const creates = apply.filter((s) => s.action === 'create').length;
  return {
    steps: [...apply, ...prune],
    create: creates,
    update: apply.length - creates,
    prune: prune.length,
    unchanged,
    inventory: sortedKeys(desired),
    autoscaled,
  };
}
