// A process pod's /etc/resolv.conf and /etc/hosts: written by the node into the pod's folder, mounted by the process
// runtime over the host's in the container's mount namespace (runtimes with sandboxes have podman write them). Only
// what differs from the host's is written: a pod whose resolv.conf is the host's (dnsPolicy Default, a host-network
// pod) reads the host's file itself, as a host-network pod without hostAliases reads the host's /etc/hosts.
import { mkdir, readFile, writeFile } from './quick-fs.ts';
import { dirname, join } from 'node:path';
import type { KubeObject } from '../model/object.ts';
import { formatResolvConf } from '../model/resolv-conf.ts';
import { podDnsConfig, type ClusterDnsSettings } from './pod-dns.ts';
import { hostNetworkHostsFile, podHostsFile } from './pod-hosts.ts';
import type { EtcFiles } from './runtime/runtime.ts';

const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Writes the files into `dir` (only when their text changed: a running container's bind mount keeps the inode). */
export async function writePodEtcFiles(dir: string, pod: KubeObject, podIP: string, dns: ClusterDnsSettings): Promise<EtcFiles> {
  const conf = podDnsConfig(pod, dns);
  const host = dns.host;
  const ownResolv = !(same(conf.nameservers, host.nameservers) && same(conf.searches, host.searches) && same(conf.options, host.options));
  const hosts = !pod.spec?.hostNetwork ? podHostsFile(pod, podIP, dns.clusterDomain)
    : pod.spec.hostAliases?.length ? hostNetworkHostsFile(pod, await readFile('/etc/hosts', 'utf8').catch(() => '')) : undefined;
  const out: EtcFiles = {};
  if (ownResolv) out.resolvConf = await writeIfChanged(join(dir, 'resolv.conf'), formatResolvConf(conf));
  if (hosts !== undefined) out.hosts = await writeIfChanged(join(dir, 'hosts'), hosts);
  return out;
}

async function writeIfChanged(file: string, text: string): Promise<string> {
  if ((await readFile(file, 'utf8').catch(() => undefined)) === text) return file;
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, text, { mode: 0o644 });
  return file;
}
