// Where a plan's live state comes from: the store of this process, a data folder, or a running server's read-only API.
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import type { KubeObject } from '../model/object.ts';
import { apiVersionOf, gitKinds, kindInfo } from '../model/kinds.ts';
import { registerCrds } from '../model/custom-kinds.ts';
import type { Store } from '../store/store.ts';
import { readStateFile } from '../store/persist.ts';
import type { LiveState } from './live-state.ts';

/** The sync state in which objects are being written (sync/sync.machine.ts; by name, as this reads JSON). */
const WRITING = 'applying';

/** The kinds a plan looks at: what git may own, plus the nodes pods would be scheduled on. */
const planKinds = () => [...gitKinds(), 'Node'];

/** What the sync loop persists (meta keys `sync` and `inventory`, see sync/syncer.ts) and a plan needs: what git applied before. */
interface SyncMeta { inventory?: string[]; lastApplied?: string }

/** The inventory's keys: its own record (object key → revision), or, from an older version, the list in `sync`. */
const inventoryOf = (record: unknown, sync: SyncMeta): string[] =>
  record && typeof record === 'object' ? Object.keys(record) : sync.inventory ?? [];

export interface Live { live: LiveState; lastApplied?: string }

export async function liveFromStore(store: Pick<Store, 'list' | 'getMeta'>): Promise<Live> {
  const objects = (await Promise.all(planKinds().map((k) => store.list(k)))).flat();
  const sync = (await store.getMeta<SyncMeta>('sync')) ?? {};
  const inventory = inventoryOf(await store.getMeta('inventory', { shared: true }), sync);
  return { live: { objects, inventory, nodesKnown: true }, lastApplied: sync.lastApplied };
}

/** Reads `<dir>/state.json` without opening a store, so a `serve` running on the folder is not disturbed. */
export async function liveFromDataDir(dir: string): Promise<Live> {
  const file = join(dir, 'state.json');
  if (!existsSync(file)) throw new Error(`no convergit state in ${dir} (${file} does not exist): is it the --data-dir of a serve?`);
  const state = await readStateFile(file);
  registerCrds(state.objects.filter((o) => o.kind === 'CustomResourceDefinition')); // custom resources are live objects too
  const kinds = new Set(planKinds());
  const sync = (state.meta.sync ?? {}) as SyncMeta;
  return {
    live: { objects: state.objects.filter((o) => kinds.has(o.kind)), inventory: inventoryOf(state.meta.inventory, sync), nodesKnown: true },
    lastApplied: sync.lastApplied,
  };
}

/** GETs a path of the server as JSON: cli/server-connection.ts's, with the credentials and TLS the server needs. */
export type GetJson = (path: string) => Promise<any>;

/** Lists every plan kind over the Kubernetes paths and the inventory from /status: only GETs. */
export async function liveFromServer(get: GetJson): Promise<Live> {
  const list = (kind: string) => {
    const info = kindInfo(kind)!;
    const path = info.group ? `/apis/${apiVersionOf(info)}/${info.resource}` : `/api/v1/${info.resource}`;
    // List items carry no kind/apiVersion in Kubernetes; keys need both.
    return get(path).then((l) => (l.items as KubeObject[])
      // EndpointSlices mirrored from Endpoints are computed on read, not stored: the store and data folder have none.
      .filter((o) => o.metadata.labels?.['endpointslice.kubernetes.io/managed-by'] !== 'endpointslicemirroring-controller.k8s.io')
      // So are the Local APIServices of the groups served (api/api-services.ts), labelled as kube-aggregator's autoregister labels them.
      .filter((o) => kind !== 'APIService' || o.metadata.labels?.['kube-aggregator.kubernetes.io/automanaged'] === undefined)
      .map((o) => ({ ...o, kind, apiVersion: o.apiVersion ?? apiVersionOf(info) })));
  };
  // The lists are separate requests: a sync applying meanwhile would mix two revisions. /status before and after
  // tells, and a second read (a sync takes milliseconds) is then consistent.
  for (let attempt = 0; ; attempt++) {
    const before = await get('/status');
    registerCrds(await list('CustomResourceDefinition')); // custom resources are live objects too
    const lists = await Promise.all(planKinds().map(list));
    const status = await get('/status');
    const settled = before.lastAppliedRevision === status.lastAppliedRevision && before.state !== WRITING && status.state !== WRITING;
    if (!settled && attempt < 3) continue;
    const inventory: string[] = status.inventory ?? (status.objects ?? []).map((o: { key: string }) => o.key);
    return { live: { objects: lists.flat(), inventory, nodesKnown: true }, lastApplied: status.lastAppliedRevision };
  }
}
