// convergit's ingress controller: runs the Ingresses of its class (model/ingress-class.ts) on a listener of the
// node's host, HTTP and HTTPS. It reads Ingresses, IngressClasses, Services, Endpoints and Secrets from the store,
// rebuilds its route table and TLS contexts on every change, proxies each request to a ready endpoint of the
// backend Service (round-robin), writes `status.loadBalancer.ingress` of each Ingress it runs, and records
// events: Sync when it takes an Ingress up or sees it changed, a Warning for one of another class (kept, not
// run) and for a TLS Secret it cannot use (the default certificate serves that host instead).
import type { KubeObject } from '../../model/object.ts';
import { builtinIngressClass, INGRESS_CLASS, ingressOwnership } from '../../model/ingress-class.ts';
import { Informer } from '../../store/informer.ts';
import { StoreError, type Store } from '../../store/store.ts';
import { EndpointPicker, readyBackends } from '../endpoint-picker.ts';
import { DrainTracker } from '../drain-tracker.ts';
import { INGRESS_PROXIED_GENERATION } from '../../model/proxied.ts';
import { defaultCertificate } from './default-certificate.ts';
import { DEFAULT_HTTP_PORTS, DEFAULT_HTTPS_PORTS, listenFirst, type Bound } from './listen.ts';
import { portHolder } from '../port-holder.ts';
import { INGRESS_PORTS_META, type PortConflict } from '../../model/port-conflict.ts';
import net, { type Server } from 'node:net';
import { matchRequest, type RouteTable } from './matcher.ts';
import { createIngressServers, type IngressServersOptions, type Resolution } from './proxy-server.ts';
import { ingressRoutes, ingressTls, servicePortName, type ServiceBackend } from './routes.ts';
import { tlsContexts, type TlsContexts } from './tls-contexts.ts';

export interface IngressControllerOptions {
  store: Store;
  /** The node's host: where the listeners bind, and the address written to the Ingresses' status. */
  host: string;
  /** --ingress-port: the one port to use; default 80, else 8080, else any free port. */
  port?: number;
  /** --ingress-tls-port: likewise, default 443, else 8443, else any free port. */
  tlsPort?: number;
  /**
   * Listen on every Node's InternalIP too (each node's own address, where the ports are this serve's). The shared
   * host is then tried on 80/8080 (443/8443) or the given port only, first come: when another holds them it is
   * reported (a Warning on each Ingress run, and /status), never swapped silently for a random port.
   */
  nodeAddresses?: boolean;
  log?: (m: string) => void;
  /** Where the pods are, when not in this network namespace (rootless podman's): connections to endpoints go there. */
  podNetwork?: IngressServersOptions['podNetwork'];
}

const RETRY_MS = 5000;

export interface IngressController {
  port: number;
  tlsPort: number;
  /** One line for serve's output: where the listener is, and why not on 80/443 when it is not. */
  describe(): string;
  stop(): Promise<void>;
}

const keyOf = (o: KubeObject) => `${o.metadata.namespace || 'default'}/${o.metadata.name}`;
const refOf = (o: KubeObject) => ({ apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', namespace: o.metadata.namespace || 'default', name: o.metadata.name, uid: o.metadata.uid });

/** Creates the `convergit` IngressClass when it is not there, as serve creates the built-in namespaces. */
async function ensureIngressClass(store: Store): Promise<void> {
  if (await store.get('IngressClass', undefined, builtinIngressClass().metadata.name)) return;
  await store.create(builtinIngressClass()).catch((e) => {
    if (!(e instanceof StoreError && e.reason === 'AlreadyExists')) throw e;
  });
}

export async function startIngressController(opts: IngressControllerOptions): Promise<IngressController> {
  const { store, host } = opts;
  const log = opts.log ?? (() => {});
  await ensureIngressClass(store);
  const ingresses = new Informer(store, 'Ingress');
  const classes = new Informer(store, 'IngressClass');
  const services = new Informer(store, 'Service');
  const endpoints = new Informer(store, 'Endpoints');
  const secrets = new Informer(store, 'Secret');
  const picker = new EndpointPicker();
  const split = (key: string) => key.split('/') as [string, string];

  let routes: RouteTable<ServiceBackend> = { hosts: [] };
  let tls: TlsContexts = tlsContexts({ hosts: new Map() }, () => undefined);
  /** What was last said per Ingress (event reason|message), so a reconcile repeats nothing. */
  const said = new Map<string, Set<string>>();
  let scheduled: NodeJS.Immediate | undefined;
  let stopped = false;

  function resolve(reqHost: string | undefined, path: string): Resolution {
    const m = matchRequest(routes, reqHost, path);
    if (!m) return { status: 404, message: `no Ingress rule for ${reqHost ?? ''}${path.split('?')[0]}` };
    const b = m.backend;
    const svcName = `${b.namespace}/${b.service}`;
    const portName = servicePortName(services.get(b.namespace, b.service), b.port);
    const port = b.port.number ?? b.port.name;
    if (portName === undefined) {
      return { status: 503, message: services.get(b.namespace, b.service) ? `Service ${svcName} has no port ${port}` : `Service ${svcName} does not exist` };
    }
    const ready = picker.order(`${svcName}:${portName}`, readyBackends(endpoints.get(b.namespace, b.service), portName));
    if (!ready.length) return { status: 503, message: `Service ${svcName} port ${port} has no ready endpoint` };
    return { endpoints: ready, service: svcName };
  }

  // Requests count in the drain as the service proxy's connections do, under the ingress's own annotation.
  const drain = new DrainTracker(store, endpoints, INGRESS_PROXIED_GENERATION, (m) => log(`ingress: ${m}`));
  const servers = createIngressServers({
    resolve, contextFor: (name) => tls.contextFor(name), defaultCertificate, log: (m) => log(`ingress: ${m}`), podNetwork: opts.podNetwork,
    begin: (service, eps) => drain.begin(service, eps),
  });

  function say(ing: KubeObject, type: 'Normal' | 'Warning', reason: string, message: string): void {
    const key = keyOf(ing);
    const seen = said.get(key) ?? new Set();
    said.set(key, seen);
    const id = `${reason}|${message}`;
    if (seen.has(id)) return;
    seen.add(id);
    if (type === 'Warning') log(`ingress ${key}: ${message}`);
    store.recordEvent(refOf(ing), type, reason, message).catch((err) => log(`ingress ${key}: recording an event failed: ${err?.message ?? err}`));
  }

  async function writeAddress(ing: KubeObject, address: { ip: string }[] | undefined): Promise<void> {
    const now = ing.status?.loadBalancer?.ingress;
    if (JSON.stringify(now ?? []) === JSON.stringify(address ?? [])) return;
    const status = { ...ing.status, loadBalancer: address ? { ingress: address } : {} };
    await store.updateStatus('Ingress', ing.metadata.namespace || 'default', ing.metadata.name, status, { shared: true })
      .catch((err) => {
        if (!(err instanceof StoreError && (err.reason === 'NotFound' || err.reason === 'Conflict'))) log(`ingress ${keyOf(ing)}: writing status.loadBalancer failed: ${err?.message ?? err}`);
      });
  }

  function reconcile(): void {
    scheduled = undefined;
    if (stopped) return;
    const known = classes.list();
    const run: KubeObject[] = [];
    for (const ing of ingresses.list()) {
      const own = ingressOwnership(ing, known);
      if (own.run) {
        run.push(ing);
        say(ing, 'Normal', 'Sync', `Scheduled for sync (generation ${ing.metadata.generation ?? 1}, class ${own.className})`);
        void writeAddress(ing, served().map((ip) => ({ ip })));
        for (const c of conflicts) say(ing, 'Warning', 'FailedToOpenPort', c.message);
      } else {
        say(ing, 'Warning', 'NotRun', `kept, not run: ${own.reason}`);
        // Taken off convergit's class: the address written is no longer served for it.
        if (ing.status?.loadBalancer?.ingress?.some((a: { ip?: string }) => a.ip === host || nodeListeners.has(a.ip ?? ''))) void writeAddress(ing, undefined);
      }
    }
    routes = ingressRoutes(run);
    tls = tlsContexts(ingressTls(run), (key) => secrets.get(...split(key)));
    for (const p of tls.problems) {
      const ing = ingresses.get(...split(p.ingress));
      if (ing) say(ing, 'Warning', 'InvalidTLSSecret', `${p.message}: the default certificate is served instead`);
    }
    const live = new Set(ingresses.list().map(keyOf));
    for (const k of said.keys()) if (!live.has(k)) said.delete(k);
  }
  const schedule = () => {
    if (!scheduled && !stopped) scheduled = setImmediate(reconcile); // a burst of changes is one reconcile
  };

  /** Each node's own address: a pair of listeners handing their connections to the same servers. */
  const nodeListeners = new Map<string, { http: Server; https: Server; bound?: { http: number; https: number } }>();
  // On 0.0.0.0 (or ::) the shared listeners cover every address already: a node's own can't be bound beside them.
  const nodes = opts.nodeAddresses && host !== '0.0.0.0' && host !== '::' ? new Informer(store, 'Node') : undefined;
  /** The shared host's listeners that could not open (another serve holds the ports): retried, first come. */
  let conflicts: PortConflict[] = [];
  let retry: NodeJS.Timeout | undefined;
  const served = () => [...(servers.http.listening ? [host] : []), ...[...nodeListeners].filter(([, o]) => o.bound).map(([ip]) => ip)];
  const allServers = () => [servers.http, servers.https, ...[...nodeListeners.values()].flatMap((o) => [o.http, o.https])];
  const closeServers = () => Promise.all(allServers().map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()))));
  // The HTTP server reads a socket handed to it only when it flows; the TLS port's takes it paused (as its own).
  const forward = (to: Server, paused: boolean) => net.createServer({ pauseOnConnect: paused }, (socket) => to.emit('connection', socket));
  const shared = (port: number | undefined, defaults: readonly number[]) =>
    port !== undefined ? [port] : nodes ? defaults.filter((p) => p !== 0) : defaults;

  async function listenShared(): Promise<void> {
    const out: PortConflict[] = [];
    for (const [kind, server, ports] of [
      ['ingress-http', servers.http, shared(opts.port, DEFAULT_HTTP_PORTS)],
      ['ingress-https', servers.https, shared(opts.tlsPort, DEFAULT_HTTPS_PORTS)],
    ] as const) {
      if (server.listening) continue;
      try {
        const b = await listenFirst(server, host, ports);
        bound[kind === 'ingress-http' ? 'http' : 'https'] = b;
        if (conflicts.length) log(`ingress: ${host}:${b.port} is free now: listening there too`);
      } catch (e) {
        if (!nodes) throw e;
        const port = ports[ports.length - 1];
        const heldBy = portHolder(host, port);
        const servedOn = [...nodeListeners.keys()];
        out.push({
          address: host, port, kind, heldBy, servedOn, since: conflicts.find((c) => c.kind === kind)?.since ?? new Date().toISOString(),
          message: `can't open ${kind === 'ingress-http' ? 'HTTP' : 'HTTPS'} port ${host}:${port} for the Ingresses: ${(e as Error).message.replace(/^can't listen on [^:]+:\d+: /, '')}, held by ${heldBy}; `
            + `served on the nodes' own addresses instead${servedOn.length ? ` (${servedOn.join(', ')})` : ''}, and on ${host} once it is free`,
        });
      }
    }
    const changed = JSON.stringify(out.map((c) => c.message)) !== JSON.stringify(conflicts.map((c) => c.message));
    conflicts = out;
    if (changed) void store.setMeta(INGRESS_PORTS_META, conflicts, { persist: false }).catch(() => {});
    if (changed) {
      for (const c of out) log(`ingress: ${c.message}`);
      schedule();
    }
    clearTimeout(retry);
    if (out.length && !stopped) retry = setTimeout(() => void listenShared().catch((e) => log(`ingress: ${(e as Error).message}`)), RETRY_MS);
  }

  /** Listeners on each node's own address: the shared host's ports when it has them (same URLs), else 80/8080/any. */
  async function listenOwn(): Promise<void> {
    for (const n of nodes?.list() ?? []) {
      const ip = (n.status?.addresses as { type: string; address: string }[] | undefined)?.find((a) => a.type === 'InternalIP')?.address;
      if (!ip || ip === host || nodeListeners.has(ip) || stopped) continue;
      const o = { http: forward(servers.http, false), https: forward(servers.https, true) } as { http: Server; https: Server; bound?: { http: number; https: number } };
      nodeListeners.set(ip, o);
      const first = (given: number | undefined, defaults: readonly number[], now?: number) => given !== undefined ? [given] : [...new Set([...(now ? [now] : []), ...defaults])];
      try {
        const http = (await listenFirst(o.http, ip, first(opts.port, DEFAULT_HTTP_PORTS, bound.http?.port))).port;
        const https = (await listenFirst(o.https, ip, first(opts.tlsPort, DEFAULT_HTTPS_PORTS, bound.https?.port))).port;
        o.bound = { http, https };
        log(`ingress: http://${ip}:${http}/ https://${ip}:${https}/ (node ${n.metadata.name}'s address)`);
        if (conflicts.length) void listenShared(); // says where instead
        schedule();
      } catch (e) {
        log(`ingress: on node ${n.metadata.name}'s address: ${(e as Error).message}`);
      }
    }
  }

  const bound: { http?: Bound; https?: Bound } = {};
  try {
    await listenShared();
  } catch (e) {
    await closeServers();
    throw new Error(`ingress: ${(e as Error).message}`);
  }
  nodes?.on({ add: () => void listenOwn(), update: () => void listenOwn() });
  await nodes?.start();
  await listenOwn();

  for (const inf of [ingresses, classes, secrets]) inf.on({ add: schedule, update: schedule, delete: schedule });
  // A committed `convergit` class that git then prunes takes the built-in one with it: put it back.
  classes.on({
    delete: (c) => {
      if (!stopped && c.metadata.name === INGRESS_CLASS) ensureIngressClass(store).catch((e) => log(`ingress: re-creating IngressClass ${INGRESS_CLASS} failed: ${e?.message ?? e}`));
    },
  });
  await Promise.all([ingresses.start(), classes.start(), services.start(), endpoints.start(), secrets.start()]);
  drain.start();
  reconcile();

  return {
    get port() { return bound.http?.port ?? 0; },
    get tlsPort() { return bound.https?.port ?? 0; },
    describe() {
      if (!bound.http || !bound.https) return `ingress: not on ${host}: ${conflicts.map((c) => c.message).join('; ')}`;
      const why = [...bound.http.skipped, ...bound.https.skipped];
      return `ingress: http://${host}:${bound.http.port}/ https://${host}:${bound.https.port}/` + (why.length ? ` (not on ${why.join('; ')}; --ingress-port and --ingress-tls-port choose)` : '');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (scheduled) clearImmediate(scheduled);
      clearTimeout(retry);
      for (const inf of [ingresses, classes, services, endpoints, secrets]) inf.stop();
      drain.stop();
      nodes?.stop();
      const closed = closeServers();
      servers.destroyConnections();
      await closed;
    },
  };
}
