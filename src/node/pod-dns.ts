// A pod's resolv.conf, as the kubelet computes it (pkg/kubelet/network/dns): by dnsPolicy, ClusterFirst (the
// default) gives the cluster DNS, the search path <ns>.svc.<domain> svc.<domain> <domain> plus the host's, and
// ndots:5; Default gives the host's; None gives nothing but dnsConfig. ClusterFirst with hostNetwork is Default,
// ClusterFirstWithHostNet is ClusterFirst either way. dnsConfig is then appended: nameservers and searches without
// duplicates, options merged by name (the pod's win). Without a cluster DNS, ClusterFirst falls back to Default.
import type { KubeObject } from '../model/object.ts';
import type { ResolvConf } from '../model/resolv-conf.ts';

export interface ClusterDnsSettings {
  /** The cluster DNS address (the kubelet's --cluster-dns); undefined when none runs. */
  clusterDNS?: string;
  /** The kubelet's --cluster-domain. */
  clusterDomain: string;
  /** The node's /etc/resolv.conf (the kubelet's --resolv-conf). */
  host: ResolvConf;
}

/** The kubelet's limits: 3 nameservers (glibc's MAXNS), 32 search domains. */
const MAX_NAMESERVERS = 3;
const MAX_SEARCHES = 32;

const unique = (xs: string[]) => [...new Set(xs)];

export function podDnsConfig(pod: KubeObject, s: ClusterDnsSettings): ResolvConf {
  const spec = pod.spec ?? {};
  const policy: string = spec.dnsPolicy ?? 'ClusterFirst';
  const cluster = !!s.clusterDNS && (policy === 'ClusterFirstWithHostNet' || (policy === 'ClusterFirst' && !spec.hostNetwork));
  let out: ResolvConf;
  if (policy === 'None') out = { nameservers: [], searches: [], options: [] };
  else if (cluster) {
    const ns = pod.metadata.namespace ?? 'default';
    const d = s.clusterDomain;
    out = { nameservers: [s.clusterDNS!], searches: [`${ns}.svc.${d}`, `svc.${d}`, d, ...s.host.searches], options: ['ndots:5'] };
  } else out = { nameservers: [...s.host.nameservers], searches: [...s.host.searches], options: [...s.host.options] };
  const extra = spec.dnsConfig ?? {};
  return {
    nameservers: unique([...out.nameservers, ...(extra.nameservers ?? [])]).slice(0, MAX_NAMESERVERS),
    searches: unique([...out.searches, ...(extra.searches ?? [])]).slice(0, MAX_SEARCHES),
    options: mergeOptions(out.options, (extra.options ?? []).map((o: { name: string; value?: string }) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name))),
  };
}

/** Options by name, in first-seen order; a later one of the same name replaces the value. */
function mergeOptions(base: string[], more: string[]): string[] {
  const byName = new Map<string, string>();
  for (const o of [...base, ...more]) byName.set(o.split(':')[0], o);
  return [...byName.values()];
}
