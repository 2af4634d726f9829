// How the service proxy tells the node that a pod is out of service, through the store only: on each Endpoints
// object it writes the generation it has put into effect (new connections follow it) once no connection it relays
// for that Service still goes to an address that generation no longer lists (in-flight ones have drained). The
// node waits for it before it stops a pod's containers. Endpoints' generation moves exactly when its subsets do.
import type { KubeObject } from './object.ts';

export const PROXIED_GENERATION = 'convergit.dev/proxied-generation';

/** The proxy has put this Endpoints' current subsets into effect and drained what they dropped. */
export const isProxied = (ep: KubeObject) => ep.metadata.annotations?.[PROXIED_GENERATION] === String(ep.metadata.generation ?? 1);

/** Whether the Endpoints name the pod (ready or not). */
export const listsPod = (ep: KubeObject, uid: string) =>
  (Array.isArray(ep.subsets) ? ep.subsets : []).some((s: any) =>
    [...(s.addresses ?? []), ...(s.notReadyAddresses ?? [])].some((a: any) => a?.targetRef?.uid === uid));
