// Facts about Pods that several components need: readiness, activity, ownership and resource requests.
import type { KubeObject, OwnerReference } from './object.ts';
import { isTrue } from './conditions.ts';
import { parseQuantity } from './quantity.ts';

export const isPodReady = (pod: KubeObject) => isTrue(pod.status?.conditions, 'Ready');

/** Terminal pods (Succeeded, Failed) no longer run and never will again. */
export const isPodTerminal = (pod: KubeObject) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** Counts towards a ReplicaSet's replicas: not finished and not being deleted. */
export const isPodActive = (pod: KubeObject) => !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;

export const controllerOf = (obj: KubeObject): OwnerReference | undefined =>
  obj.metadata.ownerReferences?.find((r) => r.controller);

export const ownerRefTo = (owner: KubeObject): OwnerReference => ({
  apiVersion: owner.apiVersion,
  kind: owner.kind,
  name: owner.metadata.name,
  uid: owner.metadata.uid!,
  controller: true,
  blockOwnerDeletion: true,
});

export interface Resources { cpu: number; memory: number }

type ResourceList = Record<string, string | number>;
interface ContainerLike { resources?: { requests?: ResourceList; limits?: ResourceList }; restartPolicy?: string }
interface PodSpecLike { containers?: ContainerLike[]; initContainers?: ContainerLike[]; overhead?: ResourceList }

const ZERO: Resources = { cpu: 0, memory: 0 };
const add = (a: Resources, b: Resources): Resources => ({ cpu: a.cpu + b.cpu, memory: a.memory + b.memory });
const max = (a: Resources, b: Resources): Resources => ({ cpu: Math.max(a.cpu, b.cpu), memory: Math.max(a.memory, b.memory) });
const amount = (q: string | number | undefined, missing = 0) => (q === undefined ? missing : parseQuantity(String(q)));

/** A container's requests, a limit standing in for a missing request as the API server defaults it; `missing` fills what neither names. */
function containerRequests(c: ContainerLike, missing?: Resources): Resources {
  const r = { ...c.resources?.limits, ...c.resources?.requests };
  return { cpu: amount(r.cpu, missing?.cpu), memory: amount(r.memory, missing?.memory) };
}

/**
 * The pod's requests as the scheduler counts them (cpu in cores, memory in bytes), as k8s.io/component-helpers'
 * PodRequests: the app containers plus the restartable init (sidecar) containers, or, when larger, the largest of
 * each init container with the sidecars started before it (init containers run one at a time, sidecars keep
 * running); then `spec.overhead`. `nonMissing` stands in for a container naming neither request nor limit (the
 * scheduler's scoring defaults).
 */
export function podRequests(spec: PodSpecLike | undefined, nonMissing?: Resources): Resources {
  let reqs = ZERO;
  for (const c of spec?.containers ?? []) reqs = add(reqs, containerRequests(c, nonMissing));
  let sidecars = ZERO, init = ZERO;
  for (const c of spec?.initContainers ?? []) {
    const r = containerRequests(c, nonMissing);
    if (c.restartPolicy === 'Always') {
      reqs = add(reqs, r);
      sidecars = add(sidecars, r);
      init = max(init, sidecars);
    } else init = max(init, add(r, sidecars));
  }
  reqs = max(reqs, init);
  const o = spec?.overhead;
  return o ? add(reqs, { cpu: amount(o.cpu), memory: amount(o.memory) }) : reqs;
}
