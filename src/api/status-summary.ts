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

export async function summarise(status: StatusReport, store: Store, limit = SUMMARY_OBJECTS): Promise<StatusSummary> {
  const { objects = [], inventory = [], ...rest } = status;
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
  const count = async (kind: string) => (await store.list(kind, { shared: true })).length;
  const [deployments, pods, services, ingresses] = await Promise.all(['Deployment', 'Pod', 'Service', 'Ingress'].map(count));
  return { ...rest, kinds, objects: notWell, objectsOmitted: omitted, inventoryCount: inventory.length, workloadCounts: { deployments, pods, services, ingresses } };
}
