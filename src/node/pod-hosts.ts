// A pod's /etc/hosts, as the kubelet writes it (pkg/kubelet/kubelet_pods.go, managedHostsFileContent): localhost
// and the IPv6 names, then the pod's address with its hostname (and its FQDN when it has a `subdomain`), then the
// pod's hostAliases. A host-network pod gets the node's file, with the hostAliases after it (nodeHostsFileContent).
import type { KubeObject } from '../model/object.ts';

const LOCAL = [
  '127.0.0.1\tlocalhost',
  '::1\tlocalhost ip6-localhost ip6-loopback',
  'fe00::0\tip6-localnet',
  'fe00::0\tip6-mcastprefix',
  'fe00::1\tip6-allnodes',
  'fe00::2\tip6-allrouters',
];

/** The pod's short hostname: spec.hostname, else its name cut to 63 characters (a kernel limit). */
export function podShortHostname(pod: KubeObject): string {
  return pod.spec?.hostname || String(pod.metadata.name).slice(0, 63).replace(/[-.]+$/, '');
}

/** `<subdomain>.<namespace>.svc.<cluster domain>` when the pod has a subdomain. */
function podDomain(pod: KubeObject, clusterDomain: string): string | undefined {
  return pod.spec?.subdomain && `${pod.spec.subdomain}.${pod.metadata.namespace ?? 'default'}.svc.${clusterDomain}`;
}

/**
 * The kernel hostname of the pod's sandbox, as the kubelet sets it: the short hostname, or its FQDN with
 * setHostnameAsFQDN and a subdomain. An FQDN past the kernel's 64 characters is refused, as the kubelet does.
 */
export function podHostname(pod: KubeObject, clusterDomain: string): string {
  const short = podShortHostname(pod);
  const domain = pod.spec?.setHostnameAsFQDN === true && podDomain(pod, clusterDomain);
  if (!domain) return short;
  const fqdn = `${short}.${domain}`;
  if (fqdn.length > 64) throw new Error(`setHostnameAsFQDN: the FQDN ${fqdn} is too long (64 characters is the max, ${fqdn.length} requested)`);
  return fqdn;
}

/** The hostAliases section: a blank line, a comment, then each alias' address and names, tab-separated. */
function hostAliasLines(pod: KubeObject): string[] {
  const aliases: { ip?: string; hostnames?: string[] }[] = Array.isArray(pod.spec?.hostAliases) ? pod.spec.hostAliases : [];
  if (!aliases.length) return [];
  return ['', '# Entries added by HostAliases.', ...aliases.map((a) => [a.ip, ...(a.hostnames ?? [])].join('\t'))];
}

/** The file's text for a pod on its own address `podIP`. */
export function podHostsFile(pod: KubeObject, podIP: string, clusterDomain: string): string {
  const hostname = podShortHostname(pod);
  const domain = podDomain(pod, clusterDomain);
  const self = domain ? `${podIP}\t${hostname}.${domain}\t${hostname}` : `${podIP}\t${hostname}`;
  return ['# Kubernetes-managed hosts file.', ...LOCAL, self, ...hostAliasLines(pod), ''].join('\n');
}

/**
 * A host-network pod's file: the node's, after a header, then the pod's hostAliases after a blank line (as the
 * kubelet's). Undefined without hostAliases: the pod then reads the node's file itself (the same text, less the header).
 */
export function hostNetworkHostsFile(pod: KubeObject, nodeHosts: string): string | undefined {
  const aliases = hostAliasLines(pod);
  if (!aliases.length) return undefined;
  return `# Kubernetes-managed hosts file (host network).\n${nodeHosts}${aliases.join('\n')}\n`;
}
