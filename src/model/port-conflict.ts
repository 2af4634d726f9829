// A port a serve could not open on the shared host (--host) because another process holds it: the service proxy's
// NodePorts and LoadBalancer ports and the ingress listeners record theirs in the store (meta keys below), and
// /status shows them, so a second serve on one machine says which of its URLs are elsewhere and why.

export interface PortConflict {
  address: string;
  port: number;
  kind: 'nodePort' | 'loadBalancer' | 'clusterIP' | 'ingress-http' | 'ingress-https';
  /** `namespace/name` of the Service, for the proxy's ports. */
  service?: string;
  /** Who holds it (network/port-holder.ts), or the error when it is not a port in use. */
  heldBy: string;
  /** Where it is served instead: the nodes' own addresses. */
  servedOn: string[];
  message: string;
  since: string;
}

export const PROXY_PORTS_META = 'ports/proxy';
export const INGRESS_PORTS_META = 'ports/ingress';
export const PORT_CONFLICT_METAS = [PROXY_PORTS_META, INGRESS_PORTS_META] as const;
