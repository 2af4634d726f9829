// How a served resource is read from the store: most are stored as they are; EndpointSlices are derived from
// Endpoints. Lists are one consistent read with the version they show.
import type { KindInfo } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';
import { matchesRequirements, type Requirement } from '../model/selector.ts';
import type { Store } from '../store/store.ts';
import { ENDPOINT_SLICE, endpointSliceOf } from './derived.ts';
import { matchesFields, type FieldRequirement } from './field-selector.ts';

export interface View {
  info: KindInfo;
  /** The stored kind read for it. */
  storeKind: string;
  /** Stored object → served object. */
  derive?: (o: KubeObject) => KubeObject;
  /** Served object → what this client is shown (a Secret without its values to a client without the token). */
  present?: (o: KubeObject) => KubeObject;
}

export interface Filter { namespace?: string; labels?: Requirement[]; fields?: FieldRequirement[] }

export function viewOf(info: KindInfo): View {
  if (info.kind === ENDPOINT_SLICE.kind && info.group === ENDPOINT_SLICE.group) return { info, storeKind: 'Endpoints', derive: endpointSliceOf };
  return { info, storeKind: info.kind };
}

/** Does a served object pass the filter (labels already applied by the store for stored kinds)? */
export const passes = (f: Filter, o: KubeObject) =>
  (f.namespace === undefined || !o.metadata.namespace || o.metadata.namespace === f.namespace)
  && matchesRequirements(f.labels ?? [], o.metadata.labels) && matchesFields(f.fields ?? [], o);

/** All served objects passing the filter, sorted, with the store's version read before and after (retried until equal). */
export async function listView(store: Store, v: View, f: Filter): Promise<{ items: KubeObject[]; resourceVersion: string }> {
  for (let attempt = 0; ; attempt++) {
    const before = await store.resourceVersion();
    // Labels on derived objects are the derivation's, so those are filtered after deriving.
    // The stored objects themselves: the API only reads and serialises them.
    let items = await store.list(v.storeKind, { namespace: f.namespace, labelSelector: v.derive ? undefined : f.labels, shared: true });
    if (v.derive) items = items.map(v.derive);
    items = items.filter((o) => passes(f, o));
    const after = await store.resourceVersion();
    if (before === after || attempt >= 5) return { items, resourceVersion: after };
  }
}

export async function getView(store: Store, v: View, namespace: string | undefined, name: string): Promise<KubeObject | undefined> {
  if (v.derive) return (await listView(store, v, { namespace })).items.find((o) => o.metadata.name === name);
  return store.get(v.storeKind, namespace, name);
}
