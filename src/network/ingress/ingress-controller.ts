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
import { defaultCertificate } from './default-certificate.ts';
import { DEFAULT_HTTP_PORTS, DEFAULT_HTTPS_PORTS, listenFirst } from './listen.ts';
import { matchRequest, type RouteTable } from './matcher.ts';
import { createIngressServers, type Resolution } from './proxy-server.ts';
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
  log?: (m: string) => void;
}

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
    return { endpoints: ready };
  }

  const servers = createIngressServers({ resolve, contextFor: (name) => tls.contextFor(name), defaultCertificate, log: (m) => log(`ingress: ${m}`) });

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
    await store.updateStatus('Ingress', ing.metadata.namespace || 'default', ing.metadata.name, status)
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
        void writeAddress(ing, [{ ip: host }]);
      } else {
        say(ing, 'Warning', 'NotRun', `kept, not run: ${own.reason}`);
        // Taken off convergit's class: the address written is no longer served for it.
        if (ing.status?.loadBalancer?.ingress?.some((a: { ip?: string }) => a.ip === host)) void writeAddress(ing, undefined);
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

  const closeServers = () => Promise.all([servers.http, servers.https].map((s) => new Promise<void>((r) => (s.listening ? s.close(() => r()) : r()))));
  let bound: { http: Awaited<ReturnType<typeof listenFirst>>; https: Awaited<ReturnType<typeof listenFirst>> };
  try {
    bound = {
      http: await listenFirst(servers.http, host, opts.port !== undefined ? [opts.port] : DEFAULT_HTTP_PORTS),
      https: await listenFirst(servers.https, host, opts.tlsPort !== undefined ? [opts.tlsPort] : DEFAULT_HTTPS_PORTS),
    };
  } catch (e) {
    await closeServers();
    throw new Error(`ingress: ${(e as Error).message}`);
  }

  for (const inf of [ingresses, classes, secrets]) inf.on({ add: schedule, update: schedule, delete: schedule });
  // A committed `convergit` class that git then prunes takes the built-in one with it: put it back.
  classes.on({
    delete: (c) => {
      if (!stopped && c.metadata.name === INGRESS_CLASS) ensureIngressClass(store).catch((e) => log(`ingress: re-creating IngressClass ${INGRESS_CLASS} failed: ${e?.message ?? e}`));
    },
  });
  await Promise.all([ingresses.start(), classes.start(), services.start(), endpoints.start(), secrets.start()]);
  reconcile();

  return {
    port: bound.http.port,
    tlsPort: bound.https.port,
    describe() {
      const why = [...bound.http.skipped, ...bound.https.skipped];
      return `ingress: http://${host}:${bound.http.port}/ https://${host}:${bound.https.port}/` + (why.length ? ` (not on ${why.join('; ')}; --ingress-port and --ingress-tls-port choose)` : '');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (scheduled) clearImmediate(scheduled);
      for (const inf of [ingresses, classes, services, endpoints, secrets]) inf.stop();
      const closed = closeServers();
      servers.destroyConnections();
      await closed;
    },
  };
}
