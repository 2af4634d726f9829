// VolumeBinding, after kube-scheduler's plugin of that name: a pod's claims must exist; a bound claim's volume must
// allow the node (its node affinity); an unbound claim is fine only when its class waits for the first consumer
// (WaitForFirstConsumer), and then PreBind names the chosen node on the claim (volume.kubernetes.io/selected-node)
// for the provisioner. The claims are read through the cycle state; without them (plan's pure use) pods fit.
import type { KubeObject } from '../../model/object.ts';
import type { Store } from '../../store/store.ts';
import { SELECTED_NODE_ANNOTATION, claimClassName, podClaimNames, volumeNodeAffinityMatches } from '../../model/volume-claims.ts';
import { fits, unschedulable, type CycleState, type FilterPlugin } from '../framework.ts';

export const VOLUMES_STATE_KEY = 'VolumeBinding/listers';

export interface VolumeListers {
  claim(namespace: string, name: string): KubeObject | undefined;
  volume(name: string): KubeObject | undefined;
  classes(): KubeObject[];
}

export const REASON_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';
export const REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
export const REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";

const isBound = (pvc: KubeObject) => !!pvc.spec?.volumeName && pvc.status?.phase === 'Bound';

export const volumeBinding: FilterPlugin = {
  name: 'VolumeBinding',
  // No claims (or no listers, the plan's pure use): nothing to check on any node.
  preFilter: (pod, state) => (podClaimNames(pod).length && state.get(VOLUMES_STATE_KEY) ? undefined : 'skip'),
  filter(pod, info, state) {
    const names = podClaimNames(pod);
    const l = state.get(VOLUMES_STATE_KEY) as VolumeListers | undefined;
    if (!names.length || !l) return fits;
    const ns = pod.metadata.namespace ?? 'default';
    for (const name of names) {
      const pvc = l.claim(ns, name);
      if (!pvc) return unschedulable(`persistentvolumeclaim "${name}" not found`);
      if (pvc.metadata.deletionTimestamp) return unschedulable(`persistentvolumeclaim "${name}" is being deleted`);
      if (isBound(pvc)) {
        const pv = l.volume(pvc.spec.volumeName);
        if (!pv) return unschedulable(REASON_BIND_CONFLICT);
        if (!volumeNodeAffinityMatches(pv, info.node.metadata.labels)) return unschedulable(REASON_NODE_CONFLICT);
        continue;
      }
      const sc = l.classes().find((c) => c.metadata.name === claimClassName(pvc, l.classes()));
      if (sc?.volumeBindingMode !== 'WaitForFirstConsumer') return unschedulable(REASON_UNBOUND_IMMEDIATE);
      const selected = pvc.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
      if (selected && selected !== info.name) return unschedulable(REASON_NODE_CONFLICT);
    }
    return fits;
  },
};

/** A fresh cycle state holding the listers. */
export const volumeCycleState = (l: VolumeListers): CycleState => new Map([[VOLUMES_STATE_KEY, l]]);

/** PreBind: each unbound WaitForFirstConsumer claim of the pod learns its node, so it is provisioned there. */
export async function preBindVolumes(store: Store, pod: KubeObject, node: string, l: VolumeListers): Promise<void> {
  const ns = pod.metadata.namespace ?? 'default';
  for (const name of podClaimNames(pod)) {
    const pvc = l.claim(ns, name);
    if (!pvc || isBound(pvc) || pvc.metadata.annotations?.[SELECTED_NODE_ANNOTATION] === node) continue;
    const sc = l.classes().find((c) => c.metadata.name === claimClassName(pvc, l.classes()));
    if (sc?.volumeBindingMode !== 'WaitForFirstConsumer') continue;
    const next = structuredClone(pvc);
    next.metadata.annotations = { ...next.metadata.annotations, [SELECTED_NODE_ANNOTATION]: node };
    await store.update(next);
  }
}
