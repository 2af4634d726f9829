// NodeResourcesFit: the pod's requests must fit in what the node has allocatable minus what its pods request,
// and the node must have room for one more pod. All shortages are reported at once, as Kubernetes does.
import type { FilterPlugin } from '../framework.ts';
import { cachedOf, fits, unschedulable } from '../framework.ts';
import { requestOf } from '../node-info.ts';
import { insufficient, REASON_TOO_MANY_PODS } from '../reasons.ts';

export const nodeResourcesFit: FilterPlugin = {
  name: 'NodeResourcesFit',
  filter: (pod, info, state) => {
    const want = cachedOf(state, 'NodeResourcesFit/request', requestOf, pod);
    const room = info.pods.length + 1 <= info.allocatable.pods;
    const cpu = !(want.milliCpu > 0 && want.milliCpu > info.allocatable.milliCpu - info.requested.milliCpu);
    const memory = !(want.memory > 0 && want.memory > info.allocatable.memory - info.requested.memory);
    if (room && cpu && memory) return fits; // the common case allocates nothing
    const reasons: string[] = [];
    if (info.pods.length + 1 > info.allocatable.pods) reasons.push(REASON_TOO_MANY_PODS);
    // A zero request always fits, even on a node already overcommitted.
    if (want.milliCpu > 0 && want.milliCpu > info.allocatable.milliCpu - info.requested.milliCpu) reasons.push(insufficient('cpu'));
    if (want.memory > 0 && want.memory > info.allocatable.memory - info.requested.memory) reasons.push(insufficient('memory'));
    return reasons.length ? unschedulable(...reasons) : fits;
  },
};
