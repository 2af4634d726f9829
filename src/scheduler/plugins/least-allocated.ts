// NodeResourcesLeastAllocated: prefers the node with the most room left after placing the pod: the average over
// cpu and memory of (allocatable - requested) * 100 / allocatable, using the non-zero requests, as Kubernetes does.
import type { KubeObject } from '../../model/object.ts';
import type { CycleState, NodeInfo, ScorePlugin } from '../framework.ts';
import { cachedOf, MAX_NODE_SCORE } from '../framework.ts';
import { nonZeroRequestOf, type Amounts } from '../node-info.ts';

const free = (requested: number, allocatable: number) =>
  allocatable === 0 || requested > allocatable ? 0 : Math.floor(((allocatable - requested) * MAX_NODE_SCORE) / allocatable);

const scoreOf = (want: Amounts, info: NodeInfo) => {
  const cpu = free(info.nonZeroRequested.milliCpu + want.milliCpu, info.allocatable.milliCpu);
  const memory = free(info.nonZeroRequested.memory + want.memory, info.allocatable.memory);
  return Math.floor((cpu + memory) / 2);
};
const wantOf = (pod: KubeObject, state: CycleState) => cachedOf(state, 'NodeResourcesLeastAllocated/request', nonZeroRequestOf, pod);

export const leastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  score: (pod, info, state) => scoreOf(wantOf(pod, state), info),
  scoreNodes: (pod, feasible, state) => {
    const want = wantOf(pod, state);
    const out: number[] = new Array(feasible.length);
    for (let i = 0; i < feasible.length; i++) out[i] = scoreOf(want, feasible[i]);
    return out;
  },
};
