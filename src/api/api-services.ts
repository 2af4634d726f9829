// APIServices as kube-aggregator keeps them: one Local APIService per group-version this server serves itself
// (autoregistered at start, as kube-apiserver does for its own groups and the CRDs'), and for committed ones the
// Available condition its availability controller would write, kept current from the Services and Endpoints.
// convergit aggregates nothing: an APIService whose Service has ready endpoints is still not Available (NotAggregated).
import { createHash } from 'node:crypto';
import { allKinds } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';
import type { Store } from '../store/store.ts';
import { Informer } from '../store/informer.ts';
import { StoreError } from '../store/store.ts';
import { ApiError } from './resource-version.ts';
import { groupVersions } from './discovery.ts';

/** kube-apiserver's APIServicePriorities (pkg/controlplane/apiserver/aggregator.go, controlplane/instance.go). */
const PRIORITIES: Record<string, [number, number]> = {
  '/v1': [18000, 1], 'apps/v1': [17800, 15], 'events.k8s.io/v1': [17750, 15], 'authentication.k8s.io/v1': [17700, 15],
  'authorization.k8s.io/v1': [17600, 15], 'autoscaling/v1': [17500, 15], 'autoscaling/v2': [17500, 30], 'batch/v1': [17400, 15],
  'certificates.k8s.io/v1': [17300, 15], 'networking.k8s.io/v1': [17200, 15], 'networking.k8s.io/v1beta1': [17200, 9],
  'policy/v1': [17100, 15], 'rbac.authorization.k8s.io/v1': [17000, 15], 'storage.k8s.io/v1': [16800, 15], 'storage.k8s.io/v1beta1': [16800, 9],
  'apiextensions.k8s.io/v1': [16700, 15], 'admissionregistration.k8s.io/v1': [16700, 15], 'scheduling.k8s.io/v1': [16600, 15],
  'coordination.k8s.io/v1': [16500, 15], 'node.k8s.io/v1': [16300, 15], 'discovery.k8s.io/v1': [16200, 15],
  'flowcontrol.apiserver.k8s.io/v1': [16100, 21], 'resource.k8s.io/v1beta1': [16200, 9],
  // metrics-server's own manifest.
  'metrics.k8s.io/v1beta1': [100, 100],
};
/** crdregistration's priorities for the CRDs' groups; the same for a built-in group the table above lacks. */
const CRD_PRIORITY: [number, number] = [1000, 100];

/** A request after the server began to stop: nothing is started for it any more. */
const stoppedError = () => new ApiError(503, 'the API server is shutting down', 'ServiceUnavailable');

const uidOf = (s: string) => { const h = createHash('sha256').update(s).digest('hex'); return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`; };

const condition = (status: 'True' | 'False', reason: string, message: string, since?: string) =>
  ({ type: 'Available', status, ...(since ? { lastTransitionTime: since } : {}), reason, message });

/** The Local APIServices of the group-versions served now, created (as on a cluster) when the cluster was. */
export function localApiServices(createdAt: string | undefined): KubeObject[] {
  const custom = new Set(allKinds().filter((k) => k.custom).map((k) => k.group));
  const gvs: [string, string][] = [['', 'v1'], ...[...groupVersions()].flatMap(([g, vs]) => vs.map((v): [string, string] => [g, v]))];
  return gvs.map(([group, version]) => {
    const name = `${version}.${group}`;
    const [groupPriorityMinimum, versionPriority] = (!custom.has(group) && PRIORITIES[`${group}/${version}`]) || CRD_PRIORITY;
    return {
      apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService',
      metadata: { name, uid: uidOf(`apiservice/${name}`), resourceVersion: '1', creationTimestamp: createdAt, labels: { 'kube-aggregator.kubernetes.io/automanaged': custom.has(group) ? 'true' : 'onstart' } },
      spec: { ...(group ? { group } : {}), version, groupPriorityMinimum, versionPriority },
      status: { conditions: [condition('True', 'Local', 'Local APIServices are always available', createdAt)] },
    };
  });
}

/** A condition as kube-aggregator's available-condition controller writes it. */
type Condition = ReturnType<typeof condition>;
/** The Available condition an APIService had from a version on (the change that set it). */
interface Transition { rv: number; condition: Condition }

/** The derived changes kept for watches that resume from a version: transitions are rare, a few hundred suffice. */
const HISTORY = 256;
/** Transitions kept per APIService, to show a replayed event the status it had at its version. */
const PER_SERVICE = 8;

const rvOf = (o: KubeObject) => Number(o.metadata.resourceVersion ?? 0);
const sameCondition = (a: Condition, b: Condition) => a.status === b.status && a.reason === b.reason && a.message === b.message;

/**
 * The Available condition of committed APIServices, kept as kube-aggregator's availability controller keeps it: an
 * APIService informer, and Service and Endpoints informers only while a committed APIService names a Service. A
 * Service or Endpoints change that changes a condition is a new status at that change's version, sent to watches
 * as a MODIFIED of the APIService (the controller's status write on a cluster). Nothing is written to the store (the
 * status is the API's own view), so after a restart an APIService's status starts again from its own version.
 */
export class ApiServiceAvailability {
  private apiServices?: Informer;
  private services?: Informer;
  private endpoints?: Informer;
  /** Settles when the Service and Endpoints informers (if wanted) have synced and every status is judged. */
  private backing: Promise<void> = Promise.resolve();
  private backingSynced = false;
  private started?: Promise<void>;
  private stopped = false;
  private transitions = new Map<string, Transition[]>();
  private history: { rv: number; object: KubeObject }[] = [];
  /** Derived changes before this version may have been dropped from history. */
  private floor = 0;
  private listeners = new Set<(o: KubeObject) => void>();

  constructor(private readonly store: Store) {}

  /** Starts the APIService informer on first use. Final after stop(): refused, and nothing starts. */
  async ready(): Promise<void> {
    if (this.stopped) throw stoppedError();
    this.started ??= (async () => {
      const inf = new Informer(this.store, 'APIService').on({
        add: (o) => this.onApiService(o), update: (_, o) => this.onApiService(o), delete: (o) => this.onApiService(o, true),
      });
      this.apiServices = inf;
      try { await inf.start(); } catch (e) { inf.stop(); throw e; }
      // stop() during the start: the informer was stopped before it listed, or is stopped now.
      if (this.stopped) inf.stop();
      else this.wantServices();
    })().catch((e) => { this.started = undefined; throw e; }); // tried again on the next use
    await this.started;
    if (this.stopped) throw stoppedError();
    this.wantServices(); // again, after a start of the backing informers that failed
    // Until the backing informers run steady (they may be restarted meanwhile).
    for (let b = this.backing; ; b = this.backing) { await b; if (b === this.backing) break; }
    if (this.stopped) throw stoppedError();
  }

  stop(): void {
    this.stopped = true;
    this.apiServices?.stop();
    this.stopBacking();
    this.listeners.clear();
  }

  /** For list and get: the APIService as it is now, with its status and the version of its last change (its own or its Service's). */
  current = async (o: KubeObject): Promise<KubeObject> => {
    await this.ready();
    const last = this.statusOf(o).at(-1)!;
    return this.served(o, last.condition, Math.max(rvOf(o), last.rv));
  };

  /** For a watch event of the APIService itself: the status it had at that version. */
  atVersion = async (o: KubeObject): Promise<KubeObject> => {
    await this.ready();
    const list = this.statusOf(o), rv = rvOf(o);
    const at = [...list].reverse().find((t) => t.rv <= rv) ?? list[0];
    return this.served(o, at.condition, rv);
  };

  /**
   * Status changes after `from` (replayed), then as they happen, each a MODIFIED APIService at the version of the
   * Service or Endpoints change that caused it; called in the store's version order. Throws Gone when some after
   * `from` are no longer kept.
   */
  changes = (from: number | undefined, handler: (o: KubeObject) => void): (() => void) => {
    if (from !== undefined && from < this.floor) throw new StoreError('Gone', `resourceVersion ${from} is too old: APIService status history starts after ${this.floor}`);
    if (from !== undefined) for (const h of this.history) if (h.rv > from) handler(h.object);
    this.listeners.add(handler);
    return () => { this.listeners.delete(handler); };
  };

  private served(o: KubeObject, c: Condition, rv: number): KubeObject {
    return { ...o, metadata: { ...o.metadata, resourceVersion: String(rv) }, status: { ...o.status, conditions: [c] } };
  }

  /** The transitions known of `o` (judged now when it has none yet, as for an object seen before its informer event). */
  private statusOf(o: KubeObject): Transition[] {
    const known = this.transitions.get(o.metadata.name);
    if (known?.length) return known;
    return [{ rv: rvOf(o), condition: this.available(o, o.metadata.creationTimestamp) }];
  }

  private onApiService(o: KubeObject, deleted = false): void {
    if (deleted) this.transitions.delete(o.metadata.name);
    this.wantServices();
    // Its own change is sent by the store's watch; only the status it has from this version on is recorded here.
    if (!deleted && this.backingSynced) this.judge(o, rvOf(o));
  }

  /** Starts the Service and Endpoints informers when a committed APIService names a Service; stops them when none does. */
  private wantServices(): void {
    if (this.stopped || !this.apiServices) return;
    const wanted = this.apiServices.list().some((o) => o.spec?.service);
    if (wanted && !this.services) {
      const onChange = (o: KubeObject) => this.onBackend(o);
      const services = this.services = new Informer(this.store, 'Service').on({ add: onChange, update: (_, o) => onChange(o), delete: onChange });
      const endpoints = this.endpoints = new Informer(this.store, 'Endpoints').on({ add: onChange, update: (_, o) => onChange(o), delete: onChange });
      this.backing = (async () => {
        await Promise.all([services.start(), endpoints.start()]);
        // Stopped meanwhile: an informer stopped before its watch was registered is stopped again here.
        if (this.services !== services) { services.stop(); endpoints.stop(); return; }
        // The first judgement of each is its status from its own version on (no change of a Service was seen yet).
        for (const a of this.apiServices!.list()) this.transitions.set(a.metadata.name, [{ rv: rvOf(a), condition: this.available(a, a.metadata.creationTimestamp) }]);
        this.backingSynced = true;
      })().catch((e) => {
        if (this.services === services) this.stopBacking(); // started again on the next use
        else { services.stop(); endpoints.stop(); }
        throw e;
      });
      this.backing.catch(() => {}); // handled: a request awaiting it gets the error; none may be waiting
    } else if (!wanted && this.services) {
      this.stopBacking();
    }
  }

  private stopBacking(): void {
    this.services?.stop();
    this.endpoints?.stop();
    this.services = this.endpoints = undefined;
    this.backingSynced = false;
    this.backing = Promise.resolve();
    this.transitions.clear(); // without a Service named, every status is Local: judged on read
  }

  /** A Service or Endpoints changed: the APIServices naming it are judged again, and a changed status is sent. */
  private onBackend(o: KubeObject): void {
    if (!this.backingSynced) return;
    for (const a of this.apiServices!.list()) {
      const ref = a.spec?.service;
      if (!ref || ref.name !== o.metadata.name || ref.namespace !== o.metadata.namespace) continue;
      const t = this.judge(a, rvOf(o));
      if (!t) continue;
      const object = this.served(a, t.condition, t.rv);
      this.history.push({ rv: t.rv, object });
      if (this.history.length > HISTORY) this.floor = this.history.shift()!.rv;
      for (const l of this.listeners) l(object);
    }
  }

  /**
   * Judges `a` as of version `rv` and records the result if it differs, as SetAPIServiceCondition: the transition
   * time changes only with the status, reason and message always. Returns the new transition, if any.
   */
  private judge(a: KubeObject, rv: number): Transition | undefined {
    const list = this.transitions.get(a.metadata.name) ?? [];
    const last = list.at(-1)?.condition;
    const probe = this.available(a, undefined);
    if (last && sameCondition(last, probe)) return undefined;
    const since = !last ? a.metadata.creationTimestamp : last.status === probe.status ? last.lastTransitionTime : new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const t = { rv, condition: this.available(a, since) };
    list.push(t);
    if (list.length > PER_SERVICE) list.shift();
    this.transitions.set(a.metadata.name, list);
    return t;
  }

  /** The condition kube-aggregator's available-condition controller gives `o` now, with `since` as its transition time. */
  private available(o: KubeObject, since: string | undefined) {
    const ref = o.spec?.service;
    if (!ref) return condition('True', 'Local', 'Local APIServices are always available', since);
    const svcName = `service/${ref.name} in ${JSON.stringify(ref.namespace)}`;
    const svc = this.services?.get(ref.namespace, ref.name);
    if (!svc) return condition('False', 'ServiceNotFound', `${svcName} is not present`, since);
    if ((svc.spec?.type ?? 'ClusterIP') === 'ClusterIP') {
      const port = ref.port ?? 443;
      const found = ((svc.spec?.ports ?? []) as any[]).find((p) => p.port === port);
      if (!found) return condition('False', 'ServicePortError', `${svcName} is not listening on port ${port}`, since);
      const portName = found.name ?? '';
      const ep = this.endpoints?.get(ref.namespace, ref.name);
      if (!ep) return condition('False', 'EndpointsNotFound', `cannot find endpoints for ${svcName}`, since);
      const active = ((ep.subsets ?? []) as any[]).some((s) => (s.addresses ?? []).length && (s.ports ?? []).some((p: any) => (p.name ?? '') === portName));
      if (!active) return condition('False', 'MissingEndpoints', `endpoints for ${svcName} have no addresses with port name ${JSON.stringify(portName)}`, since);
    }
    const gv = `${o.spec?.group ?? ''}/${o.spec?.version ?? ''}`;
    return condition('False', 'NotAggregated', `convergit does not proxy aggregated APIs: ${svcName} is ready, but ${gv} is not served through this API`, since);
  }
}
