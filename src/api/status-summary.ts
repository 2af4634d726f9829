// `GET /status?summary`: the status for a big repository, small and quick whatever its size: counts per kind (by
// sync state and health) instead of every object, and in full only the objects that are not Synced and Healthy
// (up to a limit), no inventory, and counts of what runs instead of a row per pod.
import type { StatusReport, ObjectSyncState } from '../sync/status.ts';
import type { Store } from '../store/store.ts';

/** Objects listed in full at most; `objectsOmitted` says how many more there were. */
export const SUMMARY_OBJECTS = 100;

export interface KindCounts { total: number; sync: Record<string, number>; health: Record<string, number> }

export interface StatusSummary extends Omit<StatusReport, 'objects' | 'inventory'> {
  kinds: Record<string, KindCounts>;
  /** The objects not Synced or not Healthy, in the status's order, at most SUMMARY_OBJECTS of them. */
  objects: ObjectSyncState[];
  objectsOmitted: number;
  inventoryCount: number;
  workloadCounts: { deployments: number; pods: number; services: number; ingresses: number };
}

/** The per-kind counts and the objects not well of one /status objects array (replaced, never changed, when an entry changes). */
const counted = new WeakMap<readonly ObjectSyncState[], { limit: number; kinds: Record<string, KindCounts>; notWell: ObjectSyncState[]; omitted: number }>();
/** The workload counts of a store at a resourceVersion. */
const workloadsAt = new WeakMap<Store, { rv: string; counts: StatusSummary['workloadCounts'] }>();

/**
 * The summary of `status`. Polled often (a UI, a script waiting for a revision): what it counts is remembered for the
 * same objects array and the same store version, so a poll between two changes walks none of 10,000 entries.
 */
export async function summarise(status: StatusReport, store: Store, limit = SUMMARY_OBJECTS): Promise<StatusSummary> {
  const { objects = [], inventory = [], ...rest } = status;
  let c = counted.get(objects);
  if (!c || c.limit !== limit) counted.set(objects, (c = countObjects(objects, limit)));
  const rv = await store.resourceVersion();
  let w = workloadsAt.get(store);
  if (w?.rv !== rv) {
    const count = async (kind: string) => (await store.list(kind, { shared: true })).length;
    const [deployments, pods, services, ingresses] = await Promise.all(['Deployment', 'Pod', 'Service', 'Ingress'].map(count));
    workloadsAt.set(store, (w = { rv, counts: { deployments, pods, services, ingresses } }));
  }
  return { ...rest, kinds: c.kinds, objects: c.notWell, objectsOmitted: c.omitted, inventoryCount: inventory.length, workloadCounts: w.counts };
}

function countObjects(objects: readonly ObjectSyncState[], limit: number) {
  const kinds: Record<string, KindCounts> = {};
  const notWell: ObjectSyncState[] = [];
  let omitted = 0;
  for (const o of objects) {
    const k = (kinds[o.kind] ??= { total: 0, sync: {}, health: {} });
    k.total++;
    k.sync[o.status] = (k.sync[o.status] ?? 0) + 1;
    const health = o.health ?? 'Unknown';
    k.health[health] = (k.health[health] ?? 0) + 1;
    if (o.status === 'Synced' && health === 'Healthy') continue;
    if (notWell.length < limit) notWell.push(o);
    else omitted++;
  }
  return { limit, kinds, notWell, omitted };
}
