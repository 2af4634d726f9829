// The endpoints controller: for every Service with a selector, an Endpoints object of the same name listing the
// addresses and ports of the pods it selects, which the service proxy reads. Written only when it changes.
// Pod changes are batched per Service (`batchPeriodMs`): each sync builds and writes all of a Service's addresses,
// so without it a Service of n pods that all start costs n syncs of n addresses, and each write reaches every
// Endpoints reader (the proxies, the ingress, the nodes' out-of-service view, the EndpointSlice reflection).
import equal from 'fast-deep-equal';
import type { KubeObject } from '../model/object.ts';
import { serviceSelector, servicesOf } from '../model/service-selector.ts';
import { keyOf, splitKey } from '../model/key.ts';
import { type ControllerSpec } from './controller.ts';
import { endpointSubsets, endpointsChanged, servesTraffic } from './endpoint-subsets.ts';

/** Kubernetes marks the Endpoints of a headless Service with this label. */
const HEADLESS_LABEL = 'service.kubernetes.io/headless';

function labelsFor(svc: KubeObject): Record<string, string> | undefined {
  const labels: Record<string, string> = { ...svc.metadata.labels };
  if (svc.spec?.clusterIP === 'None') labels[HEADLESS_LABEL] = '';
  return Object.keys(labels).length ? labels : undefined;
}

export interface EndpointsControllerOptions {
  /**
   * kube-controller-manager's --endpoint-updates-batch-period, leading-edge and in proportion to the Service's size:
   * a pod change syncs its Services at once, unless one was synced less than its wait ago; then it waits until
   * then, with every other change of the meantime. A Service's wait is `batchMsPerAddress` for each address its
   * Endpoints listed at that sync, at most this period: a sync, its write and what reads it cost in proportion to
   * the addresses, so this bounds the share of time they take, and a small Service (a few addresses: a wait of a
   * few milliseconds) is written as soon as it changes. A lone change is never delayed; a Service's own change
   * syncs at once. (Kubernetes delays every pod-triggered sync by the period, default 0: one write per pod change;
   * 0 here does the same.) Default 100 ms.
   */
  batchPeriodMs?: number;
  /** See batchPeriodMs. Default 1 ms: the whole period from 100 addresses on. */
  batchMsPerAddress?: number;
}

const DEFAULT_ENDPOINT_BATCH_PERIOD_MS = 100;

const addressCount = (subsets: { addresses?: unknown[]; notReadyAddresses?: unknown[] }[]) =>
  subsets.reduce((n, s) => n + (s.addresses?.length ?? 0) + (s.notReadyAddresses?.length ?? 0), 0);

export function endpointsController(opts: EndpointsControllerOptions = {}): ControllerSpec {
  const period = opts.batchPeriodMs ?? DEFAULT_ENDPOINT_BATCH_PERIOD_MS;
  const perAddress = opts.batchMsPerAddress ?? 1;
  /** When each Service's last sync began (ms since the epoch) and how long a pod change waits after it, while it exists. */
  const lastSync = new Map<string, { at: number; waitMs: number }>();
  /** What this controller last wrote to each Endpoints, until its watch shows it: that change is its own. */
  const written = new Map<string, { subsets: unknown; labels: unknown }>();
  /** A Service gone, or without a selector: nothing of its syncs is kept. */
  const forget = (key: string) => {
    lastSync.delete(key);
    written.delete(key);
  };
  return {
    name: 'endpoints',
    kinds: ['Service', 'Pod', 'Endpoints'],

    watch(ctx, enqueue) {
      const services = ctx.informer('Service');
      const batched = (key: string) => {
        const last = lastSync.get(key);
        // Never longer than the wait itself, should the clock be set back.
        enqueue(key, last ? Math.min(last.waitMs, Math.max(0, last.at + last.waitMs - ctx.now().getTime())) : 0);
      };
      const forPod = (pod: KubeObject) => {
        for (const svc of servicesOf(services, pod)) batched(keyOf(svc));
      };
      services.on({ add: (s) => enqueue(keyOf(s)), update: (_o, s) => enqueue(keyOf(s)), delete: (s) => enqueue(keyOf(s)) });
      // A pod that serves no traffic is in no Endpoints (endpointSubsets leaves it out): its coming and going, and
      // changes that leave it so, sync nothing.
      ctx.informer('Pod').on({
        add: (pod) => { if (servesTraffic(pod)) forPod(pod); },
        update(old, pod) {
          const relabelled = !equal(old.metadata.labels, pod.metadata.labels);
          if (relabelled || endpointsChanged(old, pod)) forPod(pod);
          if (relabelled) forPod(old); // it may have left a Service
        },
        delete: (pod) => { if (servesTraffic(pod)) forPod(pod); },
      });
      // An Endpoints whose addresses or labels someone else changed, or removed, is put right; one left over from a
      // deleted Service goes. Not for other changes: the proxies' acknowledgements (annotations, model/proxied.ts)
      // come after each of our writes, and each was a sync of the Service again. (Kubernetes' controller handles
      // only deletions; a foreign change waits there for the next change of the Service or its pods.)
      ctx.informer('Endpoints').on({
        update: (old, ep) => {
          if (equal(old.subsets, ep.subsets) && equal(old.metadata.labels, ep.metadata.labels)) return;
          const key = keyOf(ep);
          // Its own write is not synced again (a sync of every address after each write): what it wrote needs no
          // putting right, by whoever it comes from.
          const mine = written.get(key);
          if (mine) written.delete(key);
          if (mine && equal(mine.subsets, ep.subsets) && equal(mine.labels, ep.metadata.labels)) return;
          enqueue(key);
        },
        delete: (ep) => enqueue(keyOf(ep)),
      });
    },

    initialKeys(ctx) {
      // Endpoints too: their Service may have been deleted while convergit was not running.
      return [...new Set([...ctx.informer('Service').list(), ...ctx.informer('Endpoints').list()].map(keyOf))];
    },

    async sync(key, ctx) {
      const { namespace, name } = splitKey(key);
      const svc = ctx.informer('Service').get(namespace, name);
      const current = ctx.informer('Endpoints').get(namespace, name);
      if (!svc) {
        forget(key);
        if (current) await ctx.store.delete('Endpoints', namespace, name);
        return;
      }
      const selector = serviceSelector(svc);
      if (!selector) { // without a selector, its Endpoints are someone else's to write
        forget(key);
        return;
      }

      const at = ctx.now().getTime();
      const pods = ctx.informer('Pod').withLabels(namespace, selector);
      const subsets = endpointSubsets(svc, pods);
      lastSync.set(key, { at, waitMs: Math.min(period, perAddress * addressCount(subsets)) });
      const labels = labelsFor(svc);
      if (!current) {
        await ctx.store.create({
          apiVersion: 'v1',
          kind: 'Endpoints',
          metadata: { name, namespace, ...(labels && { labels }) },
          ...(subsets.length && { subsets }),
        });
        return;
      }
      // fast-deep-equal: isDeepStrictEqual took 0.5 ms for the 300 addresses of a Service, at each of its syncs.
      if (equal(current.subsets ?? [], subsets) && equal(current.metadata.labels, labels)) return;
      // Keeps resourceVersion: a concurrent change makes this a Conflict, and a retry. A shallow copy: the store
      // copies what it keeps, and the cached object is never changed.
      const next: KubeObject = { ...current, metadata: { ...current.metadata } };
      if (labels) next.metadata.labels = labels;
      else delete next.metadata.labels;
      if (subsets.length) next.subsets = subsets;
      else delete next.subsets;
      written.set(key, { subsets: next.subsets, labels: next.metadata.labels });
      await ctx.store.update(next);
    },
  };
}
