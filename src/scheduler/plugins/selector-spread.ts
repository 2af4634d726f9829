// SelectorSpread: spreads a workload's pods over nodes. The raw score counts the pods on the node with the same
// controller (ReplicaSet …) as this pod; normalizing turns "fewest" into 100, as Kubernetes' SelectorSpread does.
import { controllerOf } from '../../model/pod.ts';
import type { ScorePlugin } from '../framework.ts';
import { cached, MAX_NODE_SCORE } from '../framework.ts';

export const selectorSpread: ScorePlugin = {
  name: 'SelectorSpread',
  score: (pod, info, state) => {
    // Once per cycle (PreScore): the pod's controller; its own constraints replace the system default.
    const uid = cached(state, 'SelectorSpread/owner', () => (pod.spec?.topologySpreadConstraints?.length ? undefined : controllerOf(pod)?.uid));
    return uid ? info.controllers.get(uid) ?? 0 : 0; // pods being deleted are not counted
  },
  normalize: (counts) => {
    const max = Math.max(0, ...counts);
    return counts.map((c) => (max === 0 ? MAX_NODE_SCORE : Math.floor((MAX_NODE_SCORE * (max - c)) / max)));
  },
};
