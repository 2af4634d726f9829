// Where the service proxy listens and what for, computed from Services alone: one TCP or UDP port on the clusterIP
// per Service port, one on the node's host (and each node's own address) for each nodePort, and for a LoadBalancer Service one on the node's
// host at the Service's own port (k3s' ServiceLB on one machine). Two Services claiming the same address and
// port (a git-given clusterIP the allocator refused) cannot both be served: the one already served keeps it,
// else the older one.
import type { KubeObject } from '../model/object.ts';
import { intern } from '../model/intern.ts';
import { compareText } from '../model/compare-text.ts';

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
  compareText(String(a.metadata.creationTimestamp ?? ''), String(b.metadata.creationTimestamp ?? '')) ||
  compareText(`${a.metadata.namespace}/${a.metadata.name}`, `${b.metadata.namespace}/${b.metadata.name}`);

/**
 * What should be listening, keyed by `address:port`, and the routes left out because another holds their key.
 * `servedNow` (key → service) says who holds each key today, so a newcomer never takes a port away. `services` are
 * objects never changed in place (the store's): each one's routes are made once.
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
  const hostsKey = hosts.join(' ');
  for (const svc of [...services].sort(byAge)) for (const r of serviceRoutes(svc, hosts, hostsKey)) add(r);
  return { routes, conflicts };
}

/**
 * A Service's routes, kept by the object as the store holds it (the store replaces an object it changes, never writes
 * into it: docs/engine.md, as storedJson keeps a version's text): the proxy works out every Service's routes at each
 * burst of Service changes, and a 10,000-object start's 3,333 Services took ~16 ms a time to build them anew (~3 ms
 * with these).
 */
const routesOf = new WeakMap<KubeObject, { hostsKey: string; routes: Route[] }>();

function serviceRoutes(svc: KubeObject, hosts: readonly string[], hostsKey: string): Route[] {
  const hit = routesOf.get(svc);
  if (hit && hit.hostsKey === hostsKey) return hit.routes;
  const routes: Route[] = [];
  const spec = svc.spec ?? {};
  const namespace = svc.metadata.namespace || 'default';
  const { name } = svc.metadata;
  const base = { service: intern(`${namespace}/${name}`), namespace, name };
  const clusterIP = spec.type !== 'ExternalName' && spec.clusterIP && spec.clusterIP !== 'None' ? String(spec.clusterIP) : undefined;
  const nodePorts = spec.type === 'NodePort' || spec.type === 'LoadBalancer';
  for (const p of spec.ports ?? []) {
    const protocol = p.protocol ?? 'TCP';
    // SCTP: Node has no SCTP sockets; validation warns that such a port is not served (manifests/implemented.ts).
    if ((protocol !== 'TCP' && protocol !== 'UDP') || typeof p.port !== 'number') continue;
    const portName = p.name ?? '';
    if (clusterIP) routes.push({ ...base, address: clusterIP, port: p.port, portName, kind: 'clusterIP', protocol });
    for (const address of hosts) {
      if (nodePorts && typeof p.nodePort === 'number') routes.push({ ...base, address, port: p.nodePort, portName, kind: 'nodePort', protocol });
      if (spec.type === 'LoadBalancer') routes.push({ ...base, address, port: p.port, portName, kind: 'loadBalancer', protocol });
    }
  }
  routesOf.set(svc, { hostsKey, routes });
  return routes;
}
