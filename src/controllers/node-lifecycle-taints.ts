// What the node lifecycle controller decides (pure), after kube-controller-manager's nodelifecycle and
// tainteviction controllers: the taints a node's conditions and cordon call for, and when taint-based eviction
// deletes a pod from a node with NoExecute taints.
import type { Condition } from '../model/conditions.ts';
import type { KubeObject } from '../model/object.ts';
import { TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, tolerates, type Taint, type Toleration } from '../model/taints.ts';

/** Taints this controller owns: it adds and removes them; every other taint of the node is left alone. */
const MANAGED = new Set([TAINT_NOT_READY, TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE]);

/**
 * The node's taints as they should be: not-ready (Ready=False) or unreachable (Ready=Unknown), each NoSchedule
 * (TaintNodesByCondition) and NoExecute (taint-based eviction, timeAdded kept from the taint already there), and
 * unschedulable:NoSchedule while cordoned.
 */
export function desiredTaints(node: KubeObject, now: string): Taint[] {
  const current: Taint[] = node.spec?.taints ?? [];
  const ready = (node.status?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready');
  const want: Taint[] = [];
  const key = ready?.status === 'False' ? TAINT_NOT_READY : ready?.status === 'Unknown' ? TAINT_UNREACHABLE : undefined;
  if (key) {
    want.push({ key, effect: 'NoSchedule' });
    const had = current.find((t) => t.key === key && t.effect === 'NoExecute');
    want.push({ key, effect: 'NoExecute', timeAdded: had?.timeAdded ?? now });
  }
  if (node.spec?.unschedulable) want.push({ key: TAINT_UNSCHEDULABLE, effect: 'NoSchedule' });
  return [...current.filter((t) => !MANAGED.has(t.key)), ...want];
}

/**
 * When a pod on a node with these NoExecute taints is to be deleted, in ms since the epoch: now for a taint it does
 * not tolerate; else the soonest of each taint's timeAdded plus the shortest tolerationSeconds among the
 * tolerations that match it; never (undefined) when every matching toleration is forever.
 */
export function evictionTime(tolerations: Toleration[], taints: Taint[], now: number): number | undefined {
  let at: number | undefined;
  for (const taint of taints) {
    if (taint.effect !== 'NoExecute') continue;
    const matching = tolerations.filter((t) => tolerates(t, taint));
    if (!matching.length) return now;
    const bounded = matching.filter((t) => typeof t.tolerationSeconds === 'number');
    if (bounded.length < matching.length) continue; // one tolerates it forever
    const seconds = Math.max(0, Math.min(...bounded.map((t) => t.tolerationSeconds!)));
    const added = Date.parse(taint.timeAdded ?? '');
    const when = (Number.isNaN(added) ? now : added) + seconds * 1000;
    at = Math.min(at ?? Infinity, when);
  }
  return at;
}
