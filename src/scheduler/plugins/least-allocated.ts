// NodeResourcesLeastAllocated: prefers the node with the most room left after placing the pod: the average over
// cpu and memory of (allocatable - requested) * 100 / allocatable, using the non-zero requests, as Kubernetes does.
import type { ScorePlugin } from '../framework.ts';
import { cachedOf, MAX_NODE_SCORE } from '../framework.ts';
import { nonZeroRequestOf } from '../node-info.ts';

const free = (requested: number, allocatable: number) =>
  allocatable === 0 || requested > allocatable ? 0 : Math.floor(((allocatable - requested) * MAX_NODE_SCORE) / allocatable);

export const leastAllocated: ScorePlugin = {
  name: 'NodeResourcesLeastAllocated',
  score: (pod, info, state) => {
    const want = cachedOf(state, 'NodeResourcesLeastAllocated/request', nonZeroRequestOf, pod);
    const cpu = free(info.nonZeroRequested.milliCpu + want.milliCpu, info.allocatable.milliCpu);
    const memory = free(info.nonZeroRequested.memory + want.memory, info.allocatable.memory);
    return Math.floor((cpu + memory) / 2);
  },
};
