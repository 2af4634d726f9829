// Endpoints that convergit writes from committed EndpointSlices (the proxy, DNS and Ingress read Endpoints):
// marked so the API can tell them from the Endpoints a cluster would have.
import type { KubeObject } from './object.ts';

/** The label naming a slice's Service (discovery.k8s.io/v1). */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
/** Marks an Endpoints object written from slices; its value names them. */
export const REFLECTED_FROM = 'convergit.dev/reflected-from';

export const isReflection = (o: KubeObject) => o.kind === 'Endpoints' && !!o.metadata.annotations?.[REFLECTED_FROM];
