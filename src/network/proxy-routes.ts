// Where the service proxy listens and what for, computed from Services alone: one TCP or UDP port on the clusterIP
// per Service port, one on the node's host (and each node's own address) for each nodePort, and for a LoadBalancer Service one on the node's
// host at the Service's own port (k3s' ServiceLB on one machine). Two Services claiming the same address and
// port (a git-given clusterIP the allocator refused) cannot both be served: the one already served keeps it,
// else the older one.
import type { KubeObject } from '../model/object.ts';

export interface Route {
  address: string;
  port: number;
  /** `namespace/name` of the Service. */
  service: string;
  namespace: string;
  name: string;
  /** The Service port's name ('' when unnamed): how its Endpoints port is found. */
  portName: string;
  kind: 'clusterIP' | 'nodePort' | 'loadBalancer';
  protocol: 'TCP' | 'UDP';
}

export interface RouteConflict { route: Route; heldBy: string }

/** `address:port` for TCP, `address:port/UDP` for UDP: the same port number is free in both. */
export const listenKey = (address: string, port: number, protocol: Route['protocol'] = 'TCP') =>
  protocol === 'TCP' ? `${address}:${port}` : `${address}:${port}/${protocol}`;

const byAge = (a: KubeObject, b: KubeObject) =>
  String(a.metadata.creationTimestamp ?? '').localeCompare(String(b.metadata.creationTimestamp ?? '')) ||
  `${a.metadata.namespace}/${a.metadata.name}`.localeCompare(`${b.metadata.namespace}/${b.metadata.name}`);

/**
 * What should be listening, keyed by `address:port`, and the routes left out because another holds their key.
 * `servedNow` (key → service) says who holds each key today, so a newcomer never takes a port away.
 */
export function desiredRoutes(
  services: KubeObject[],
  /** Where NodePorts and LoadBalancer ports listen: the shared host, and each node's own address. */
  nodeHosts: string | readonly string[],
  servedNow: ReadonlyMap<string, string> = new Map(),
): { routes: Map<string, Route>; conflicts: RouteConflict[] } {
  const routes = new Map<string, Route>();
  const conflicts: RouteConflict[] = [];
  const hosts = typeof nodeHosts === 'string' ? [nodeHosts] : nodeHosts;
  const add = (r: Route) => {
    const k = listenKey(r.address, r.port, r.protocol);
    const held = routes.get(k);
    if (!held) routes.set(k, r);
    else if (held.service !== r.service && servedNow.get(k) === r.service) {
      routes.set(k, r);
      conflicts.push({ route: held, heldBy: r.service });
    } else conflicts.push({ route: r, heldBy: held.service });
  };
  for (const svc of [...services].sort(byAge)) {
    const spec = svc.spec ?? {};
    const namespace = svc.metadata.namespace || 'default';
    const { name } = svc.metadata;
    const base = { service: `${namespace}/${name}`, namespace, name };
    const clusterIP = spec.type !== 'ExternalName' && spec.clusterIP && spec.clusterIP !== 'None' ? String(spec.clusterIP) : undefined;
    const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
    for (const p of spec.ports ?? []) {
      const protocol = p.protocol ?? 'TCP';
      // SCTP: Node has no SCTP sockets; validation warns that such a port is not served (manifests/implemented.ts).
      if ((protocol !== 'TCP' && protocol !== 'UDP') || typeof p.port !== 'number') continue;
      const portName = p.name ?? '';
      if (clusterIP) add({ ...base, address: clusterIP, port: p.port, portName, kind: 'clusterIP', protocol });
      for (const address of hosts) {
        if (nodePorts && typeof p.nodePort === 'number') add({ ...base, address, port: p.nodePort, portName, kind: 'nodePort', protocol });
        if (spec.type === 'LoadBalancer') add({ ...base, address, port: p.port, portName, kind: 'loadBalancer', protocol });
      }
    }
  }
  return { routes, conflicts };
}
