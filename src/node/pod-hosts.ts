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

/** The pod's hostname, as the kubelet sets it: spec.hostname, else its name cut to 63 characters (a kernel limit). */
export function podHostname(pod: KubeObject): string {
  return pod.spec?.hostname || String(pod.metadata.name).slice(0, 63).replace(/[-.]+$/, '');
}

/** The file's text for a pod on its own address `podIP`. */
export function podHostsFile(pod: KubeObject, podIP: string, clusterDomain: string): string {
  const hostname = podHostname(pod);
  const domain = pod.spec?.subdomain && `${pod.spec.subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomain}`;
  const self = domain ? `${podIP}\t${hostname}.${domain}\t${hostname}` : `${podIP}\t${hostname}`;
  return ['# Kubernetes-managed hosts file.', ...LOCAL, self, ''].join('\n');
}
