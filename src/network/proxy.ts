// A userspace kube-proxy: a TCP listener (or a UDP socket) on each Service port's clusterIP:port (and the node's
// host:nodePort for NodePort Services) that relays every connection (UDP: every client's flow, udp-relay.ts) to a
// ready endpoint, round-robin. Listeners follow the Services; endpoints are looked up per connection, so an
// Endpoints change applies to the next connection.
import dgram from 'node:dgram';
import net, { type Server, type Socket } from 'node:net';
import type { KubeObject } from '../model/object.ts';
import { Informer } from '../store/informer.ts';
import type { Store } from '../store/store.ts';
import { EndpointPicker, readyBackends } from './endpoint-picker.ts';
import { desiredRoutes, listenKey, type Route } from './proxy-routes.ts';
import { relay, type Relayed } from './tcp-relay.ts';
import { PROXIED_GENERATION } from '../model/proxied.ts';
import { DrainTracker } from './drain-tracker.ts';
import { bindUdpForPods, listenForPods, type PodNetwork } from '../netns/pod-network.ts';
import { bindUdp, udpRelay, type UdpRelay } from './udp-relay.ts';
import { portHolder } from './port-holder.ts';
import { PROXY_PORTS_META, type PortConflict } from '../model/port-conflict.ts';
import { compareText } from '../model/compare-text.ts';


export interface ServiceProxyOptions {
  store: Store;
  /** Where NodePorts listen. Default 127.0.0.1. */
  nodeHost?: string;
  /**
   * NodePorts and LoadBalancer ports listen on every Node's InternalIP too (each node's own address). A port taken
   * on the shared nodeHost (another serve got there first) is then reported, not fatal: see `portConflicts`.
   */
  nodeAddresses?: boolean;
  log?: (m: string) => void;
  /** How long a connection to one endpoint may take before the next is tried. Default 1000. */
  connectTimeoutMs?: number;
  /** How often a port that could not be opened (EADDRINUSE …) is tried again. Default 5000. */
  listenRetryMs?: number;
  /** Where the pods are, when not in this network namespace (rootless podman's): ClusterIPs listen and connect there. */
  podNetwork?: PodNetwork;
  /**
   * How long a relayed connection to an endpoint that left its Service may be idle (nothing either way, the
   * endpoint's answer complete) before the proxy closes it, so that kept-alive connections drain. Default 500.
   */
  idleCloseMs?: number;
  /** How long a UDP client's flow to an endpoint lives without a datagram (kube-proxy's --udp-timeout). Default 250. */
  udpIdleTimeoutMs?: number;
}

export interface ListeningPort {
  address: string;
  port: number;
  /** `namespace/name` of the Service. */
  service: string;
  /** The Service port's name, '' when unnamed. */
  portName: string;
  kind: 'clusterIP' | 'nodePort' | 'loadBalancer';
  protocol: 'TCP' | 'UDP';
}

export { PROXY_PORTS_META };

export interface ServiceProxy {
  stop(): Promise<void>;
  /** Ports open right now. */
  listening(): ListeningPort[];
  /** Ports it can't open now, each naming its holder. */
  portConflicts(): PortConflict[];
}

/** Reason of the Warning event when a port cannot be opened. */
export const PORT_NOT_OPENED = 'FailedToOpenPort';

interface Listener {
  /** TCP. */
  server?: Server;
  /** UDP: the bound socket once it is open, and the relay of its client flows. */
  udp?: { socket: dgram.Socket; relay: UdpRelay };
  /** Replaced in place when the Service port is renamed or changes hands; read per connection. */
  route: Route;
  state: 'opening' | 'listening' | 'failed' | 'closed';
  retry?: NodeJS.Timeout;
  warned: boolean;
}

const WILDCARDS = new Set(['0.0.0.0', '::']);
const describe = (r: Route) => `${r.address}:${r.port}/${r.protocol} (${r.kind} for ${r.service}${r.portName ? `:${r.portName}` : ''})`;

export async function startServiceProxy(opts: ServiceProxyOptions): Promise<ServiceProxy> {
  const { store } = opts;
  const nodeHost = opts.nodeHost ?? '127.0.0.1';
  const log = opts.log ?? (() => {});
  const connectTimeoutMs = opts.connectTimeoutMs ?? 1000;
  const listenRetryMs = opts.listenRetryMs ?? 5000;
  const udpIdleTimeoutMs = opts.udpIdleTimeoutMs ?? 250;
  const idleCloseMs = opts.idleCloseMs ?? 500;
  const services = new Informer(store, 'Service');
  const nodes = opts.nodeAddresses ? new Informer(store, 'Node') : undefined;
  /** The shared host first, then each node's own InternalIP. */
  const hosts = (): string[] => {
    if (WILDCARDS.has(nodeHost)) return [nodeHost]; // every address already: a node's own can't be bound beside it
    const own = new Set<string>();
    for (const n of nodes?.list() ?? []) {
      const ip = (n.status?.addresses as { type: string; address: string }[] | undefined)?.find((a) => a.type === 'InternalIP')?.address;
      if (ip && ip !== nodeHost) own.add(ip);
    }
    return [nodeHost, ...[...own].sort()];
  };
  /** Ports that can't be opened, by listener key; mirrored into the store for /status. */
  const portConflicts = new Map<string, { route: Route; heldBy: string; reason: string; since: string }>();
  /** The same port of the Service on its other addresses (the nodes' own, or the shared host), open or opening. */
  const servedElsewhere = (r: Route, states: Listener['state'][]) => [...listeners.values()]
    .filter((x) => x.route !== r && states.includes(x.state) && x.route.kind === r.kind && x.route.service === r.service && x.route.port === r.port && x.route.protocol === r.protocol && x.route.address !== r.address)
    .map((x) => x.route.address);
  const conflictMessage = (r: Route, reason: string, servedOn: string[]) => `can't open port ${describe(r)}: ${reason}`
    + (servedOn.length ? `; served on ${servedOn.map((h) => `${h}:${r.port}`).join(', ')} instead, and on ${r.address}:${r.port} once it is free` : '; tried again every few seconds');
  const conflictList = (): PortConflict[] => [...portConflicts.values()].map(({ route: r, heldBy, reason, since }) => {
    const servedOn = servedElsewhere(r, ['listening']);
    return { address: r.address, port: r.port, kind: r.kind, service: r.service, heldBy, servedOn, message: conflictMessage(r, reason, servedOn), since };
  });
  let conflictsShown = '[]';
  const showConflicts = () => {
    const list = conflictList().sort((a, b) => a.port - b.port || compareText(a.address, b.address));
    const json = JSON.stringify(list);
    if (json === conflictsShown || stopped) return;
    conflictsShown = json;
    store.setMeta(PROXY_PORTS_META, list, { persist: false }).catch((err) => log(`writing the port conflicts failed: ${err?.message ?? err}`));
  };
  const endpoints = new Informer(store, 'Endpoints');
  const picker = new EndpointPicker();
  const listeners = new Map<string, Listener>();
  const sockets = new Set<Socket>();
  /** Conflicts between Services already reported: `service|address:port`. */
  const conflictsWarned = new Set<string>();
  let scheduled: NodeJS.Immediate | undefined;
  let stopped = false;
  /**
   * Says on the Endpoints that its generation is in effect once nothing relayed goes to an address it dropped:
   * the node waits for this before it stops a leaving pod (the order is kept through the store).
   */
  const drain = new DrainTracker(store, endpoints, PROXIED_GENERATION, log);
  /** Relayed TCP connections per Service, to close those to a leaving endpoint once idle. */
  const relayed = new Map<string, Set<Relayed>>();
  const onEndpoints = (ep: KubeObject) => {
    const key = `${ep.metadata.namespace ?? 'default'}/${ep.metadata.name}`;
    for (const c of relayed.get(key) ?? []) leaveIfGone(key, c);
  };
  endpoints.on({ add: onEndpoints, update: (_old, ep) => onEndpoints(ep) });

  const track = (s: Socket) => {
    s.on('error', () => {}); // teardown errors are expected; the relay handles the ones that matter
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };

  function warn(route: Route, message: string): void {
    log(`${route.service}: ${message}`);
    const uid = services.get(route.namespace, route.name)?.metadata.uid;
    store.recordEvent({ apiVersion: 'v1', kind: 'Service', namespace: route.namespace, name: route.name, uid }, 'Warning', PORT_NOT_OPENED, message)
      .catch((err) => log(`recording an event for ${route.service} failed: ${err?.message ?? err}`));
  }

  /**
   * A LoadBalancer Service whose port opened on the node's host says so in `status.loadBalancer.ingress`, as
   * k3s' ServiceLB writes it: the node's address, each port served.
   */
  async function announceLoadBalancer(route: Route): Promise<void> {
    const svc = services.get(route.namespace, route.name);
    if (!svc) return;
    const open = [...listeners.values()].filter((x) => x.state === 'listening' && x.route.kind === 'loadBalancer' && x.route.service === route.service);
    // One entry per address it is served on: the shared host where this serve holds the port, each node's own.
    const ingress = hosts().map((ip) => ({
      ip, ipMode: 'VIP',
      ports: open.filter((x) => x.route.address === ip).map((x) => ({ port: x.route.port, protocol: x.route.protocol }))
        .sort((a, b) => a.port - b.port || compareText(a.protocol, b.protocol)),
    })).filter((i) => i.ports.length);
    if (JSON.stringify(svc.status?.loadBalancer?.ingress) === JSON.stringify(ingress)) return;
    await store.updateStatus('Service', route.namespace, route.name, { ...svc.status, loadBalancer: { ingress } }, { shared: true })
      .catch((err) => log(`${route.service}: writing status.loadBalancer failed: ${err?.message ?? err}`));
  }

  /** The ready backends of a route's Service port, in the order to try (round-robin). */
  const pick = (r: Route) => picker.order(`${r.service}:${r.portName}/${r.protocol}`, // one rotation for the clusterIP and nodePort of a port
    readyBackends(endpoints.get(r.namespace, r.name), r.portName, r.protocol));

  function onConnection(l: Listener, client: Socket): void {
    track(client);
    const r = l.route;
    const backends = pick(r);
    const use = drain.begin(r.service, backends);
    const open = relayed.get(r.service) ?? new Set();
    relayed.set(r.service, open);
    client.once('close', () => {
      use.end();
      open.delete(c);
      if (!open.size && relayed.get(r.service) === open) relayed.delete(r.service);
    });
    const c = relay(client, backends, {
      connectTimeoutMs, podNetwork: opts.podNetwork, track, log, what: `${r.service}${r.portName ? `:${r.portName}` : ''}`,
      onConnect: (b) => {
        use.to([b]);
        leaveIfGone(r.service, c);
      },
    });
    open.add(c);
  }

  /** Kept-alive connections to an endpoint that left service close once idle (tcp-relay.ts). */
  function leaveIfGone(service: string, c: Relayed): void {
    if (!c.backend) return;
    const [ns, name] = service.split('/');
    const ep = endpoints.get(ns, name);
    const ready = (Array.isArray(ep?.subsets) ? ep!.subsets : []).some((s: any) =>
      (s.addresses ?? []).some((a: any) => a.ip === c.backend!.ip) && (s.ports ?? []).some((p: any) => p.port === c.backend!.port));
    if (!ready) c.leaving(idleCloseMs);
  }

  /** A UDP socket on the route's address, relaying each client's flow; 'listening' or 'error' as a TCP server. */
  function listenUdp(key: string, l: Listener): void {
    const r = l.route;
    // ClusterIPs are where pods reach them (rootless podman: in its network namespace); NodePorts are the host's.
    const bound = r.kind === 'clusterIP' ? bindUdpForPods(opts.podNetwork, r.address, r.port) : bindUdp(r.address, r.port);
    bound.then((socket) => {
      if (l.state === 'closed') return void socket.close();
      socket.on('error', (err) => log(`${l.route.service}: ${describe(l.route)}: ${err.message}`));
      const relay = udpRelay(socket, {
        idleTimeoutMs: udpIdleTimeoutMs, log, what: `${l.route.service}${l.route.portName ? `:${l.route.portName}` : ''}/UDP`,
        pick: () => pick(l.route),
        ready: (b) => readyBackends(endpoints.get(l.route.namespace, l.route.name), l.route.portName, 'UDP').some((x) => x.ip === b.ip && x.port === b.port),
        upstream: () => (opts.podNetwork ? bindUdpForPods(opts.podNetwork, '0.0.0.0', 0) : Promise.resolve(dgram.createSocket('udp4'))),
        onFlow: (b) => {
          const use = drain.begin(l.route.service, [b]);
          return () => use.end();
        },
      });
      l.udp = { socket, relay };
      onListening(key, l);
    }, (err: Error) => onListenError(key, l, err));
  }

  function listen(key: string, l: Listener): void {
    l.state = 'opening';
    if (l.route.protocol === 'UDP') return listenUdp(key, l);
    // ClusterIPs are where pods reach them (rootless podman: in its network namespace); NodePorts are the host's.
    if (l.route.kind === 'clusterIP') listenForPods(opts.podNetwork, l.server!, { host: l.route.address, port: l.route.port });
    else l.server!.listen({ host: l.route.address, port: l.route.port });
  }

  function onListening(key: string, l: Listener): void {
    if (l.state === 'closed') return; // closed again before the bind was announced
    l.state = 'listening';
    log(`${l.route.service}: listening on ${describe(l.route)}`);
    portConflicts.delete(key);
    showConflicts(); // also where another address of a conflict is served now
    if (l.route.kind === 'loadBalancer') void announceLoadBalancer(l.route);
  }

  function open(key: string, route: Route): void {
    const l: Listener = { route, state: 'opening', warned: false };
    if (route.protocol === 'TCP') {
      const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true });
      l.server = server;
      server.on('connection', (c) => onConnection(l, c));
      server.on('listening', () => onListening(key, l));
      server.on('error', (err) => onListenError(key, l, err));
    }
    listeners.set(key, l);
    listen(key, l);
  }

  function onListenError(key: string, l: Listener, err: Error): void {
    {
      if (l.state !== 'opening') return log(`${l.route.service}: ${describe(l.route)}: ${err.message}`);
      l.state = 'failed';
      // Reported once; retried quietly until the port frees up (first come on a shared host) or the Service no
      // longer wants it.
      if (!l.warned) {
        const r = l.route;
        const code = (err as NodeJS.ErrnoException).code;
        const heldBy = code === 'EADDRINUSE' ? portHolder(r.address, r.port, r.protocol === 'UDP' ? 'udp' : 'tcp') : '';
        const reason = code === 'EADDRINUSE' ? `${r.address}:${r.port} is held by ${heldBy}` : err.message;
        warn(r, conflictMessage(r, reason, servedElsewhere(r, ['listening', 'opening'])));
        portConflicts.set(key, { route: r, heldBy: heldBy || err.message, reason, since: new Date().toISOString() });
        showConflicts();
      }
      l.warned = true;
      l.retry = setTimeout(() => {
        l.retry = undefined;
        if (!stopped && listeners.get(key) === l) listen(key, l);
      }, listenRetryMs);
    }
  }

  /** UDP: the socket closes, and with it every client flow (UDP has nothing in flight to let finish). */
  function closeUdp(l: Listener): void {
    l.udp?.relay.close();
    l.udp?.socket.close();
    l.udp = undefined;
  }

  /** Stops accepting; connections already relayed run on until either side ends them. */
  function close(l: Listener): void {
    clearTimeout(l.retry);
    if (l.state === 'listening' || l.state === 'opening') l.server?.close();
    closeUdp(l);
    if (l.state === 'listening') log(`${l.route.service}: closed ${describe(l.route)}`);
    l.state = 'closed';
  }

  function reconcile(): void {
    scheduled = undefined;
    if (stopped) return;
    const servedNow = new Map(Array.from(listeners, ([key, l]) => [key, l.route.service]));
    const { routes, conflicts } = desiredRoutes(services.list(), hosts(), servedNow);
    for (const [key, l] of listeners) {
      if (routes.has(key)) continue;
      close(l);
      listeners.delete(key);
      portConflicts.delete(key);
    }
    showConflicts();
    for (const [key, route] of routes) {
      const l = listeners.get(key);
      if (!l) open(key, route);
      else l.route = route;
    }
    picker.retain(new Set(Array.from(routes.values(), (r) => `${r.service}:${r.portName}`)));
    const now = new Set<string>();
    for (const { route, heldBy } of conflicts) {
      const id = `${route.service}|${listenKey(route.address, route.port, route.protocol)}`;
      now.add(id);
      if (!conflictsWarned.has(id)) warn(route, `can't open port ${describe(route)}: it is already used by Service ${heldBy}`);
    }
    conflictsWarned.clear();
    for (const id of now) conflictsWarned.add(id);
  }

  const schedule = () => {
    if (!scheduled && !stopped) scheduled = setImmediate(reconcile); // a burst of changes is one reconcile
  };
  services.on({ add: schedule, update: schedule, delete: schedule });
  nodes?.on({ add: schedule, update: (old, n) => { if (JSON.stringify(old.status?.addresses) !== JSON.stringify(n.status?.addresses)) schedule(); }, delete: schedule });
  await services.start();
  await endpoints.start();
  await nodes?.start();
  reconcile();
  drain.start();

  return {
    portConflicts: conflictList,
    listening: () =>
      [...listeners.values()]
        .filter((l) => l.state === 'listening')
        .map(({ route: r }) => ({ address: r.address, port: r.port, service: r.service, portName: r.portName, kind: r.kind, protocol: r.protocol })),
    async stop() {
      if (stopped) return;
      stopped = true;
      if (scheduled) clearImmediate(scheduled);
      drain.stop();
      services.stop();
      endpoints.stop();
      nodes?.stop();
      const closed = [...listeners.values()].map((l) =>
        new Promise<void>((resolve) => {
          clearTimeout(l.retry);
          closeUdp(l);
          if (l.state !== 'listening' && l.state !== 'opening') return resolve();
          l.state = 'closed';
          if (!l.server) return resolve();
          l.server.close(() => resolve());
        }));
      listeners.clear();
      // A reset, not a FIN: a peer that keeps its half open must not wait for a proxy that is gone.
      for (const s of sockets) (s.connecting ? s.destroy() : s.resetAndDestroy());
      await Promise.all(closed);
    },
  };
}
