// How a served resource is read from the store: most are stored as they are; a HorizontalPodAutoscaler is
// converted to the version asked for. EndpointSlices are those committed
// plus those derived from Endpoints; Endpoints reflected from committed slices are convergit's own plumbing and
// are not served (a cluster has none there). Lists are one consistent read with the version they show.
import type { KindInfo } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';
import { isReflection } from '../model/reflected-endpoints.ts';
import { matchesRequirements, type Requirement } from '../model/selector.ts';
import type { Store } from '../store/store.ts';
import { ENDPOINT_SLICE, endpointSliceOf } from './derived.ts';
import { eventsV1Of } from './events-v1.ts';
import { hpaIn } from './hpa-conversion.ts';
import type { ApiServiceAvailability } from './api-services.ts';
import { matchesFields, type FieldRequirement } from './field-selector.ts';
import { isResourceMetrics } from './resource-metrics.ts';
import { compareText } from '../model/compare-text.ts';

/** One stored kind a view reads: its objects as they are, or each turned into the served kind. */
export interface Source {
  storeKind: string;
  /** Stored object → served object (a promise when the derivation waits for something, as an APIService's status). */
  derive?: (o: KubeObject) => KubeObject | Promise<KubeObject>;
  /** For watch events, when an event's object is served otherwise than a listed one (as of its own version). */
  deriveEvent?: (o: KubeObject) => KubeObject | Promise<KubeObject>;
  /** Stored objects this view does not serve. */
  skip?: (o: KubeObject) => boolean;
  /** Selectors apply to the stored object (the derivation is the same object in another version's shape). */
  filterStored?: boolean;
}

export interface View {
  info: KindInfo;
  /** The version served (the request path's). */
  version: string;
  sources: Source[];
  /** Served object → what this client is shown (a Secret without its values to a client without the token). */
  present?: (o: KubeObject) => KubeObject;
  /** Objects served beyond the stored ones (the Local APIServices); a stored one of the same name wins. Never change. */
  fixed?: KubeObject[];
  /**
   * Changes of served objects that no stored object of theirs makes (an APIService's status after its Service
   * changed): replayed after `from`, then live, in the store's version order, each a MODIFIED. Returns a stop function.
   */
  changes?: (from: number, handler: (o: KubeObject) => void) => () => void;
}

/** What some views need beyond the store: APIServices' availability and the Local ones. */
export interface ViewDeps { apiServices?: ApiServiceAvailability; localApiServices?: KubeObject[] }

/**
 * kube-apiserver sets a CSR's requester (spec.username, uid, groups) from the user who created it; here every
 * object is created by convergit applying a commit, so that is the requester: one fixed identity (docs/engine.md).
 */
export const REQUESTER = { username: 'convergit', groups: ['system:authenticated'] };
const withRequester = (o: KubeObject): KubeObject => {
  const { uid: _uid, extra: _extra, ...spec } = o.spec ?? {};
  return { ...o, spec: { ...spec, username: REQUESTER.username, groups: REQUESTER.groups } };
};

export interface Filter { namespace?: string; labels?: Requirement[]; fields?: FieldRequirement[] }

/** The view of `info` at `version` (the one the request path names; the preferred one by default). */
export function viewOf(info: KindInfo, version = info.version, deps: ViewDeps = {}): View {
  if (info.kind === 'APIService' && info.group === 'apiregistration.k8s.io' && deps.apiServices) {
    const a = deps.apiServices;
    return { info, version, sources: [{ storeKind: info.kind, derive: a.current, deriveEvent: a.atVersion, filterStored: true }], fixed: deps.localApiServices, changes: a.changes };
  }
  if (info.kind === 'CertificateSigningRequest' && info.group === 'certificates.k8s.io') return { info, version, sources: [{ storeKind: info.kind, derive: withRequester, filterStored: true }] };
  if (info.kind === 'HorizontalPodAutoscaler' && info.group === 'autoscaling') {
    return { info, version, sources: [{ storeKind: info.kind, derive: (o) => hpaIn(version, o), filterStored: true }] };
  }
  if (info.kind === 'Event' && info.group === 'events.k8s.io') return { info, version, sources: [{ storeKind: 'Event', derive: eventsV1Of, filterStored: true }] };
  if (info.kind === ENDPOINT_SLICE.kind && info.group === ENDPOINT_SLICE.group) {
    return { info, version, sources: [{ storeKind: 'EndpointSlice' }, { storeKind: 'Endpoints', derive: endpointSliceOf, skip: isReflection }] };
  }
  if (info.kind === 'Endpoints' && info.group === '') return { info, version, sources: [{ storeKind: 'Endpoints', skip: isReflection }] };
  return { info, version, sources: [{ storeKind: info.kind }] };
}

/**
 * Served as stored: one stored kind, nothing derived, skipped or added (the API's front answers a GET of one of these
 * from its replica). An APIService's view needs its availability (ViewDeps), so it is never one; component statuses
 * and resource metrics are measured on each read, not stored.
 */
export function servedAsStored(info: KindInfo, version: string): boolean {
  if ((info.kind === 'APIService' && info.group === 'apiregistration.k8s.io') || (info.kind === 'ComponentStatus' && !info.group) || isResourceMetrics(info)) return false;
  const v = viewOf(info, version);
  return v.sources.length === 1 && !v.sources[0].derive && !v.sources[0].skip && !v.fixed && !v.changes && !v.present;
}

/** Does a served object pass the filter (labels already applied by the store for stored kinds)? */
export const passes = (f: Filter, o: KubeObject) =>
  (f.namespace === undefined || !o.metadata.namespace || o.metadata.namespace === f.namespace)
  && matchesRequirements(f.labels ?? [], o.metadata.labels) && matchesFields(f.fields ?? [], o);

/** Selectors are applied to what a source serves after deriving it (they name the derived object's own fields). */
export const filtersDerived = (s: Source) => !!s.derive && !s.filterStored;

/** The served object of a stored one (a promise when its derivation is asynchronous), or undefined when this source does not serve it. */
export const served = (s: Source, o: KubeObject, event = false): KubeObject | Promise<KubeObject> | undefined => {
  if (s.skip?.(o)) return undefined;
  const derive = (event && s.deriveEvent) || s.derive;
  return derive ? derive(o) : o;
};

export const isPromise = <T>(x: T | Promise<T>): x is Promise<T> => typeof (x as Promise<T> | undefined)?.then === 'function';

/** The store's order, by code unit (etcd's key order), which continue tokens and their binary search rely on. */
const byNamespaceAndName = (a: KubeObject, b: KubeObject) => {
  const an = a.metadata.namespace ?? '', bn = b.metadata.namespace ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  return compareText(a.metadata.name, b.metadata.name);
};

/** All served objects passing the filter, sorted, with the store's version read before and after (retried until equal). */
export async function listView(store: Store, v: View, f: Filter): Promise<{ items: KubeObject[]; resourceVersion: string }> {
  for (let attempt = 0; ; attempt++) {
    const before = await store.resourceVersion();
    let items: KubeObject[] = [];
    let waiting: Promise<KubeObject>[] | undefined; // asynchronous derivations, awaited together after the reads
    for (const s of v.sources) {
      // Labels on derived objects are the derivation's, so those are filtered after deriving.
      // The stored objects themselves: the API only reads and serialises them.
      const stored = await store.list(s.storeKind, { namespace: f.namespace, labelSelector: filtersDerived(s) ? undefined : f.labels, shared: true });
      for (const o of stored) {
        if (!filtersDerived(s) && !passes(f, o)) continue;
        const out = served(s, o);
        if (isPromise(out)) (waiting ??= []).push(out.then((x) => (!filtersDerived(s) || passes(f, x) ? x : undefined)) as Promise<KubeObject>);
        else if (out && (!filtersDerived(s) || passes(f, out))) items.push(out);
      }
    }
    if (waiting) items.push(...(await Promise.all(waiting)).filter((x) => x));
    if (v.fixed?.length) {
      const names = new Set(items.map((o) => o.metadata.name));
      items.push(...v.fixed.filter((o) => !names.has(o.metadata.name) && passes(f, o)));
    }
    if (v.sources.length > 1 || v.fixed?.length) items = items.sort(byNamespaceAndName);
    const after = await store.resourceVersion();
    if (before === after || attempt >= 5) return { items, resourceVersion: after };
  }
}

export async function getView(store: Store, v: View, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
  // A derivation that renames the object (an EndpointSlice of Endpoints) is found by its served name; one that keeps
  // it (a version conversion) by the stored one.
  if (v.sources.length > 1 || filtersDerived(v.sources[0])) return (await listView(store, v, { namespace })).items.find((o) => o.metadata.name === name);
  const o = await store.get(v.sources[0].storeKind, namespace, name, { shared: true }); // only read and serialised, as in listView
  return (o && await served(v.sources[0], o)) ?? v.fixed?.find((x) => x.metadata.name === name);
}
