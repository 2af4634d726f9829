// Gives Services their clusterIP and nodePorts, as the Kubernetes API server's allocators do, but as a
// controller: it watches Services and writes the values into their spec. The spec is the only record (the store
// keeps allocated values across git updates that omit them, see model/allocated.ts), so a restart re-reads them.
import type { KubeObject } from '../model/object.ts';
import { Informer } from '../store/informer.ts';
import { StoreError, type Store } from '../store/store.ts';
import { KeyQueue } from './key-queue.ts';
import { ServiceAllocations, serviceKey, type AllocationPlan, type AllocationWarning } from './service-allocations.ts';
import { splitKey } from '../model/key.ts';
import { compareText } from '../model/compare-text.ts';

export interface ServiceAllocatorOptions {
  store: Store;
  /** Default 127.2.0.0/16. */
  serviceCidr?: string;
  /** Addresses of the service CIDR kept from Services, by what holds them (the cluster DNS address). */
  reserved?: { ip: string; holder: string }[];
  /** Inclusive. Default [30000, 32767]. */
  nodePortRange?: [number, number];
  log?: (m: string) => void;
  /** Delay before a Service whose sync failed (store error) is tried again. Default 1000. */
  retryDelayMs?: number;
}

export interface ServiceAllocator {
  stop(): Promise<void>;
  /** Resolves when every queued Service has been handled: for tests. */
  idle(): Promise<void>;
}

/** Writes lost to a concurrent writer are retried with a fresh read this many times before the queue's retry. */
const CONFLICT_RETRIES = 5;

export async function startServiceAllocator(opts: ServiceAllocatorOptions): Promise<ServiceAllocator> {
  const { store } = opts;
  const log = opts.log ?? (() => {});
  const ledger = new ServiceAllocations(opts.serviceCidr ?? '127.2.0.0/16', opts.nodePortRange ?? [30000, 32767]);
  for (const r of opts.reserved ?? []) if (!ledger.reserveFor(r.ip, r.holder)) throw new Error(`${r.holder} address ${r.ip} is not in the service CIDR ${ledger.ips.cidr}`);
  const informer = new Informer(store, 'Service');
  /** Services refused a value another Service holds: synced again whenever something is released. */
  const waiting = new Set<string>();
  /** Warnings already recorded per Service (by uid), so a standing problem is reported once, not on every sync. */
  const warned = new Map<string, { uid?: string; messages: Set<string> }>();

  async function warn(svc: KubeObject, warnings: AllocationWarning[]): Promise<void> {
    const key = serviceKey(svc);
    const before = warned.get(key);
    const seen = before?.uid === svc.metadata.uid ? before!.messages : new Set<string>();
    const now = new Set<string>();
    for (const w of warnings) {
      now.add(w.message);
      if (seen.has(w.message)) continue;
      log(`Service ${key}: ${w.reason}: ${w.message}`);
      const { namespace, name } = splitKey(key);
      await store.recordEvent({ apiVersion: 'v1', kind: 'Service', namespace, name, uid: svc.metadata.uid }, 'Warning', w.reason, w.message);
    }
    if (now.size) warned.set(key, { uid: svc.metadata.uid, messages: now });
    else warned.delete(key);
  }

  function wakeWaiting(except: string): void {
    for (const k of waiting) if (k !== except) queue.add(k);
  }

  /** A copy of the (shared, cached) Service whose spec and patched ports are its own; the store copies the rest. */
  function patched(svc: KubeObject, patch: NonNullable<AllocationPlan['patch']>): KubeObject {
    const spec = { ...svc.spec };
    if (patch.clusterIP) {
      spec.clusterIP = patch.clusterIP;
      spec.clusterIPs = [patch.clusterIP];
    }
    if (patch.nodePorts.size) spec.ports = spec.ports.map((p: object, i: number) => (patch.nodePorts.has(i) ? { ...p, nodePort: patch.nodePorts.get(i) } : p));
    return { ...svc, spec };
  }

  async function sync(key: string): Promise<void> {
    const { namespace, name } = splitKey(key);
    for (let attempt = 0; ; attempt++) {
      // The cache first; after a conflict, the store itself, which is ahead of the cache.
      const svc = attempt === 0 ? informer.get(namespace, name) : await store.get('Service', namespace, name);
      if (!svc) {
        warned.delete(key);
        waiting.delete(key);
        if (ledger.forget(key)) wakeWaiting(key);
        return;
      }
      const plan = ledger.plan(svc);
      if (plan.blocked) waiting.add(key);
      else waiting.delete(key);
      if (plan.released) wakeWaiting(key);
      await warn(svc, plan.warnings);
      if (!plan.patch) return;
      try {
        // The read resourceVersion makes this fail rather than overwrite a newer spec from git.
        await store.update(patched(svc, plan.patch), { shared: true }); // the result is not read: no copy
      } catch (err) {
        ledger.rollback(key, plan.fresh);
        if (err instanceof StoreError && err.reason === 'Conflict' && attempt < CONFLICT_RETRIES) continue;
        if (err instanceof StoreError && err.reason === 'NotFound') continue; // the next read sees it gone
        throw err;
      }
      const what = [plan.patch.clusterIP && `clusterIP ${plan.patch.clusterIP}`, ...[...plan.patch.nodePorts.values()].map((p) => `nodePort ${p}`)];
      log(`Service ${key}: allocated ${what.filter(Boolean).join(', ')}`);
      return;
    }
  }

  const queue = new KeyQueue(sync, {
    retryDelayMs: opts.retryDelayMs ?? 1000,
    onError: (key, err) => log(`Service ${key}: allocation failed, will retry: ${(err as Error)?.message ?? err}`),
  });
  const enqueue = (o: KubeObject) => queue.add(serviceKey(o));
  informer.on({ add: enqueue, update: (_old, o) => enqueue(o), delete: enqueue });
  await informer.start();

  // What the store already holds is taken before anything new is handed out; the oldest Service wins a dispute.
  const byAge = (a: KubeObject, b: KubeObject) =>
    compareText(String(a.metadata.creationTimestamp ?? ''), String(b.metadata.creationTimestamp ?? '')) ||
    Number(a.metadata.resourceVersion ?? 0) - Number(b.metadata.resourceVersion ?? 0);
  for (const svc of [...informer.list()].sort(byAge)) ledger.reserveExisting(svc);
  queue.start();
  await queue.idle();

  return {
    idle: () => queue.idle(),
    async stop() {
      informer.stop();
      await queue.stop();
    },
  };
}
