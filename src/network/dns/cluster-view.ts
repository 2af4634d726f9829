// The cluster zone's objects, read from the store through Informers (the store is the only bus): Services,
// Endpoints, Pods with a subdomain and Namespaces, each answered from its cache, so a query costs no store read.
import { Informer } from '../../store/informer.ts';
import type { Store } from '../../store/store.ts';
import type { ClusterView } from './cluster-zone.ts';

export interface WatchedView extends ClusterView {
  stop(): void;
}

export async function watchClusterView(store: Store): Promise<WatchedView> {
  const services = new Informer(store, 'Service');
  const endpoints = new Informer(store, 'Endpoints');
  // Only pods with a subdomain name a DNS record (their hostname under a headless Service): the rest are not kept.
  const pods = new Informer(store, 'Pod', { match: (p) => !!p.spec?.subdomain });
  const namespaces = new Informer(store, 'Namespace');
  services.addIndex('clusterIP', (s) => (typeof s.spec?.clusterIP === 'string' && s.spec.clusterIP !== 'None' ? [s.spec.clusterIP] : []));
  const all = [services, endpoints, pods, namespaces];
  try {
    for (const i of all) await i.start();
  } catch (e) {
    for (const i of all) i.stop();
    throw e;
  }
  return {
    service: (ns, name) => services.get(ns, name),
    endpoints: (ns, name) => endpoints.get(ns, name),
    pod: (ns, name) => pods.get(ns, name),
    servicesWithIp: (ip) => services.byIndex('clusterIP', ip),
    // A namespace holding a Service exists for DNS even when no Namespace object names it (convergit's default).
    namespaceExists: (ns) => !!namespaces.get(undefined, ns) || services.list(ns).length > 0,
    stop: () => { for (const i of all) i.stop(); },
  };
}
