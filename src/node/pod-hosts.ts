// A pod's /etc/hosts, as the kubelet writes it (pkg/kubelet/kubelet_pods.go, managedHostsFileContent): localhost
// and the IPv6 names, then the pod's address with its hostname (and its FQDN when it has a `subdomain`). A
// host-network pod keeps the node's file (the kubelet copies it: hostAliases, which it would add, are not run).
import type { KubeObject } from '../model/object.ts';

const LOCAL = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'fe00::0\tip6-mcastprefix',
  'fe00::1\tip6-allnodes',
  'fe00::2\tip6-allrouters',
];

/** The pod's hostname (spec.hostname, else its name cut to 63 characters) and its domain when it has a subdomain. */
function podHostname(pod: KubeObject, clusterDomain: string): { hostname: string; domain?: string } {
  const spec = pod.spec ?? {};
  const hostname: string = spec.hostname || String(pod.metadata.name).slice(0, 63).replace(/[-.]+$/, '');
  const ns = pod.metadata.namespace ?? 'default';
  return spec.subdomain ? { hostname, domain: `${spec.subdomain}.${ns}.svc.${clusterDomain}` } : { hostname };
}

/** The file's text for a pod on its own address `podIP`. */
export function podHostsFile(pod: KubeObject, podIP: string, clusterDomain: string): string {
  const { hostname, domain } = podHostname(pod, clusterDomain);
  const self = domain ? `${podIP}\t${hostname}.${domain}\t${hostname}` : `${podIP}\t${hostname}`;
  return ['# Kubernetes-managed hosts file.', ...LOCAL, self, ''].join('\n');
}
