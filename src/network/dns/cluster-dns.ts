// Cluster DNS run by serve (kube-dns's place): the cluster zone from the store, other names forwarded to the host's
// resolvers, on the cluster DNS address (the service CIDR's 10th address, as kube-dns's 10.96.0.10) port 53.
import { IpPool } from '../../model/ip-pool.ts';
import { readResolvConf } from '../../model/resolv-conf.ts';
import type { Store } from '../../store/store.ts';
import { watchClusterView } from './cluster-view.ts';
import { startDnsServer, type DnsServer, type DnsServerOptions } from './dns-server.ts';
import { upstream, type Nameserver } from './upstream.ts';

export const CLUSTER_DOMAIN = 'cluster.local';

/** The cluster DNS address of a service CIDR: its 10th address (10.96.0.10 of 10.96.0.0/16), kept from Services. */
export const clusterDnsIp = (serviceCidr: string) => new IpPool(serviceCidr).addressAt(9);

export interface ClusterDnsOptions {
  store: Store;
  address: string;
  /** Default 53. */
  port?: number;
  zone?: string;
  /** Default: the nameservers of the host's /etc/resolv.conf, but this server's own address. */
  nameservers?: Nameserver[];
  /** How long a forwarded query waits for each nameserver. Default 2000. */
  forwardTimeoutMs?: number;
  log?: (m: string) => void;
  /** Where the pods are, when not in this network namespace (rootless podman's). */
  podNetwork?: DnsServerOptions['podNetwork'];
}

export interface ClusterDns extends DnsServer {}

export async function startClusterDns(opts: ClusterDnsOptions): Promise<ClusterDns> {
  const view = await watchClusterView(opts.store);
  const nameservers = opts.nameservers
    ?? readResolvConf().nameservers.filter((ns) => ns !== opts.address).map((host) => ({ host }));
  try {
    const server = await startDnsServer({
      address: opts.address, port: opts.port ?? 53, zone: opts.zone ?? CLUSTER_DOMAIN, view,
      upstream: upstream(nameservers, opts.forwardTimeoutMs), log: opts.log, podNetwork: opts.podNetwork,
    });
    return { ...server, close: async () => { view.stop(); await server.close(); } };
  } catch (e) {
    view.stop();
    throw e;
  }
}
