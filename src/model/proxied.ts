// How the proxies tell the node that a pod is out of service, through the store only: on each Endpoints object
// each proxy writes, under an annotation of its own, the generation it has put into effect (new connections and
// requests follow it) once nothing it relays for that Service still goes to an address that generation no longer
// lists (in-flight ones have drained). The service proxy writes PROXIED_GENERATION, the ingress
// INGRESS_PROXIED_GENERATION. The node waits for them before it stops a pod's containers. Endpoints' generation
// moves exactly when its subsets do.
import type { KubeObject } from './object.ts';

export const PROXIED_GENERATION = 'convergit.dev/proxied-generation';
export const INGRESS_PROXIED_GENERATION = 'convergit.dev/ingress-proxied-generation';

/**
 * Every proxy has put this Endpoints' current subsets into effect and drained what they dropped. The ingress's
 * annotation counts once it has written one (it does for every Endpoints as soon as it sees it): a serve without
 * an ingress controller (tests of the node with the service proxy alone) is not held up by it.
 */
export const isProxied = (ep: KubeObject) => {
  const generation = String(ep.metadata.generation ?? 1);
  const a = ep.metadata.annotations ?? {};
  return a[PROXIED_GENERATION] === generation && (a[INGRESS_PROXIED_GENERATION] === undefined || a[INGRESS_PROXIED_GENERATION] === generation);
};

/** Whether the Endpoints name the pod (ready or not). */
export const listsPod = (ep: KubeObject, uid: string) =>
  (Array.isArray(ep.subsets) ? ep.subsets : []).some((s: any) =>
    [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])].some((a: any) => a?.targetRef?.uid === uid));
