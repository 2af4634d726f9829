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

/** The pod's requests as the scheduler counts them: the sum over its containers (cpu in cores, memory in bytes),
 * a container's limit standing in for a missing request as Kubernetes defaults it. */
export function podRequests(spec: { containers?: { resources?: { requests?: Record<string, string | number>; limits?: Record<string, string | number> } }[] } | undefined): Resources {
  const total: Resources = { cpu: 0, memory: 0 };
  for (const c of spec?.containers ?? []) {
    const r = { ...c.resources?.limits, ...c.resources?.requests }; // a limit without a request is the request
    if (r.cpu !== undefined) total.cpu += parseQuantity(String(r.cpu));
    if (r.memory !== undefined) total.memory += parseQuantity(String(r.memory));
  }
  return total;
}
