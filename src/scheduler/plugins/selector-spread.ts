// SelectorSpread: spreads a workload's pods over nodes. The raw score counts the pods on the node with the same
// controller (ReplicaSet …) as this pod; normalizing turns "fewest" into 100, as Kubernetes' SelectorSpread does.
import { controllerOf } from '../../model/pod.ts';
import type { ScorePlugin } from '../framework.ts';
import { cachedOf, MAX_NODE_SCORE, type CycleState } from '../framework.ts';
import type { KubeObject } from '../../model/object.ts';

/** The scheduler cache's pods of a controller by node name (SchedulerCache.podsOfController), when it gives them. */
export type ControllerPods = (uid: string) => ReadonlyMap<string, number> | undefined;
const CONTROLLER_PODS = 'SelectorSpread/controllerPods';
export const withControllerPods = (state: CycleState, pods: ControllerPods): CycleState => state.set(CONTROLLER_PODS, pods);

const spreadOwner = (pod: KubeObject) => (pod.spec?.topologySpreadConstraints?.length ? undefined : controllerOf(pod)?.uid);
const ownerOf = (pod: KubeObject, state: CycleState) => cachedOf(state, 'SelectorSpread/owner', spreadOwner, pod);

export const selectorSpread: ScorePlugin = {
  name: 'SelectorSpread',
  // Once per cycle (PreScore): the pod's controller; its own constraints replace the system default. Without one,
  // every node would score the same.
  preScore: (pod, _feasible, state) => (ownerOf(pod, state) ? undefined : 'skip'),
  score: (pod, info, state) => {
    const uid = ownerOf(pod, state);
    return uid ? info.controllers.get(uid) ?? 0 : 0; // pods being deleted are not counted
  },
  scoreNodes: (pod, feasible, state) => {
    const uid = ownerOf(pod, state);
    const out: number[] = new Array(feasible.length).fill(0);
    if (!uid) return out;
    const byNode = (state.get(CONTROLLER_PODS) as ControllerPods | undefined)?.(uid);
    if (!byNode) {
      // No index given (the plan's snapshot), or none of its pods placed yet: each node's own counts.
      if (!state.has(CONTROLLER_PODS)) for (let i = 0; i < feasible.length; i++) out[i] = feasible[i].controllers.get(uid) ?? 0;
      return out;
    }
    for (let i = 0; i < feasible.length; i++) out[i] = byNode.get(feasible[i].name) ?? 0;
    return out;
  },
  normalize: (counts) => {
    const max = Math.max(0, ...counts);
    return counts.map((c) => (max === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max - c)) / max)));
  },
};
