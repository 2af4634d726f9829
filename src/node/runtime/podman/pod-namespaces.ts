// A pod's namespaces made by convergit, not by an infra container and CNI. Rootful podman's way (an infra container:
// conmon and three runc runs; then the CNI chain bridge, portmap, firewall, tuning, with a dozen iptables runs per pod
// whose cost grows with the rules of every pod before it) was most of a pod's start-up CPU. Here a pod has:
// - a network namespace, a named one (`ip netns add`, bound at /run/netns/<name>, so it outlives serve and every
//   container, as an infra container held it), with a veth pair: one end in it as eth0 with the pod's address and a
//   default route via the bridge's address, the other on the node's bridge (the same bridge podman's network has, so
//   pods made either way reach each other);
// - an IPC namespace bound at /run/convergit/pods/<name>/ipc and a tmpfs of 64 MiB for its /dev/shm beside it, as
//   the kubelet's sandbox gives a pod's containers one IPC namespace and one /dev/shm (System V IPC, POSIX message
//   queues and shared memory shared within the pod, not with other pods).
// The pod's containers join them (podman's `nsmode: path`, and /dev/shm a bind mount). One shell per pod runs two
// `ip -batch` and one `unshare … mount` (a few ms of CPU each here, as any exec), started by the process runtime's
// helper process (process-spawner.ts): a fork of serve itself, with its big heap, cost it ~0.1 s a pod. Masquerading
// out of the pod CIDR is one iptables rule per bridge, not one chain per pod.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { rm, rmdir, writeFile } from 'node:fs/promises';
import { IpPool } from '../../../model/ip-pool.ts';
import { runCommand } from '../process-spawner.ts';
import { podMac } from './pod-mac.ts';

const NETNS_DIR = '/run/netns';
const PODS_DIR = '/run/convergit/pods';
const which = (...paths: string[]) => paths.find((p) => existsSync(p));
const IP = which('/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip');
const IPTABLES = which('/usr/sbin/iptables', '/sbin/iptables', '/usr/bin/iptables');
const UNSHARE = which('/usr/bin/unshare', '/bin/unshare');
const MOUNT = which('/usr/bin/mount', '/bin/mount');
const UMOUNT = which('/usr/bin/umount', '/bin/umount');
/** Kubernetes' (containerd's and podman's) default size of a pod's /dev/shm. */
const SHM_OPTIONS = 'nosuid,nodev,noexec,mode=1777,size=65536k';

/** Whether this machine can make pod namespaces this way (iproute2, iptables, util-linux; root is the caller's check). */
export const podNamespacesAvailable = (): boolean => [IP, IPTABLES, UNSHARE, MOUNT, UMOUNT].every((p) => p !== undefined);

const netnsPath = (name: string): string => `${NETNS_DIR}/${name}`;
const podDir = (name: string): string => `${PODS_DIR}/${name}`;
const ipcPath = (name: string): string => `${podDir(name)}/ipc`;
const shmPath = (name: string): string => `${podDir(name)}/shm`;

/** What a container is given to join the pod's namespaces: libpod SpecGenerator fields. */
export const joinPodNamespaces = (name: string) => ({
  netns: { nsmode: 'path', value: netnsPath(name) },
  ipcns: { nsmode: 'path', value: ipcPath(name) },
  mounts: [{ destination: '/dev/shm', source: shmPath(name), type: 'bind', options: ['rbind', 'nosuid', 'nodev', 'noexec'] }],
});

/** Whether the pod's namespaces are there (their bind mounts: a `podman pod rm` touches neither). */
export const hasPodNamespaces = (name: string): boolean => existsSync(netnsPath(name)) && existsSync(ipcPath(name));

/** The pods whose names start with `prefix` (an instance's) with any namespace of theirs left. */
export function podNamespacesNamed(prefix: string): string[] {
  const named = (dir: string) => {
    try {
      return readdirSync(dir).filter((n) => n.startsWith(prefix));
    } catch {
      return [];
    }
  };
  return [...new Set([...named(NETNS_DIR), ...named(PODS_DIR)])];
}

/** The host end of a pod's veth: at most 15 bytes (IFNAMSIZ), from a hash of the namespace's name. */
const hostVeth = (name: string) => `cvg${createHash('sha256').update(name).digest('hex').slice(0, 12)}`;

/** The network interfaces of this process's namespace (/proc/net/dev is the reader's; /sys may be another's). */
function interfaces(): string[] {
  try {
    return readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).map((l) => l.split(':')[0].trim()).filter(Boolean);
  } catch {
    return [];
  }
}

/** Runs a command through the process runtime's helper (serve forks nothing); rejects with its stderr when it fails. */
async function run(file: string, args: string[]): Promise<void> {
  const r = await runCommand(file, args);
  if (r.code !== 0) throw new Error(r.stderr.trim() || `${file} ${r.signal ? `killed by ${r.signal}` : `exited with ${r.code}`}`);
}

/** `10.244.3.0/24` → its first address (the bridge's, the pods' gateway, as the node reserves it) and the prefix length. */
const gatewayOf = (cidr: string) => ({ gateway: new IpPool(cidr).addressAt(0), bits: cidr.split('/')[1] });

/**
 * The node's bridge, with the CIDR's first address, made when podman's CNI has not made it yet (it makes it on its
 * first pod), forwarding on, and the pods' traffic out of the CIDR masqueraded (one rule, named by `comment`).
 */
export async function ensureBridge(bridge: string, cidr: string, comment: string): Promise<void> {
  if (!interfaces().includes(bridge)) {
    const { gateway, bits } = gatewayOf(cidr);
    await run('/bin/sh', ['-c', `"$0" link add "$1" type bridge && "$0" addr add "$2" dev "$1" && "$0" link set "$1" up`, IP!, bridge, `${gateway}/${bits}`])
      .catch((e) => { if (!interfaces().includes(bridge)) throw e; }); // made meanwhile by CNI: as good
  }
  await writeFile('/proc/sys/net/ipv4/ip_forward', '1');
  const rule = ['-t', 'nat', 'POSTROUTING', '-s', cidr, '!', '-d', cidr, '-m', 'comment', '--comment', comment, '-j', 'MASQUERADE'];
  const at = (op: string) => [rule[0], rule[1], op, ...rule.slice(2)];
  await run(IPTABLES!, ['-w', ...at('-C')]).catch(() => run(IPTABLES!, ['-w', ...at('-A')]));
}

/** Removes the bridge's masquerade rule and the bridge (podman's network removal leaves a bridge it did not make). */
export async function removeBridge(bridge: string, cidr: string, comment: string): Promise<void> {
  await run(IPTABLES!, ['-w', '-t', 'nat', '-D', 'POSTROUTING', '-s', cidr, '!', '-d', cidr, '-m', 'comment', '--comment', comment, '-j', 'MASQUERADE']).catch(() => {});
  if (interfaces().includes(bridge)) await run(IP!, ['link', 'del', bridge]).catch(() => {});
}

/**
 * The pod's namespaces, `name`: the network one with `ip` on eth0, its default route via the bridge's address, and
 * the IPC one with its /dev/shm. Older ones of that name (and the veth) are replaced. Loopback up, as every pod has it.
 */
export async function createPodNamespaces(name: string, ip: string, cidr: string, bridge: string): Promise<void> {
  const { gateway, bits } = gatewayOf(cidr);
  const veth = hostVeth(name);
  // A leftover of the same name (a sandbox made again) goes first: its host end while something still holds its
  // namespace, then its mounts.
  if (interfaces().includes(veth) || existsSync(netnsPath(name)) || existsSync(podDir(name))) await removePodNamespaces(name, veth);
  mkdirSync(shmPath(name), { recursive: true }); // synchronous: see PodmanRuntime.start
  writeFileSync(ipcPath(name), '');
  // Two ip runs (each forks nothing; here-documents, no printf): on the host's side the namespace and the veth pair,
  // its host end on the bridge from its making; then in the namespace. Then the IPC namespace, bound to its file by
  // unshare, which runs the mount of the pod's /dev/shm (one exec for both).
  const mac = podMac(ip);
  const host = ['netns add $1', `link add $2 master $3 up type veth peer name eth0${mac ? ` address ${mac}` : ''} netns $1`];
  const inside = ['addr add $4 dev eth0', 'link set eth0 up', 'link set lo up', 'route add default via $5'];
  const script = `"$0" -batch - <<EOF\n${host.join('\n')}\nEOF\n"$0" -n "$1" -batch - <<EOF\n${inside.join('\n')}\nEOF\n`
    + `exec "$6" --ipc="$7" "$8" -t tmpfs -o ${SHM_OPTIONS} shm "$9"\n`;
  await run('/bin/sh', ['-ec', script, IP!, name, veth, bridge, `${ip}/${bits}`, gateway, UNSHARE!, ipcPath(name), MOUNT!, shmPath(name)]).catch(async (e) => {
    await removePodNamespaces(name).catch(() => {});
    throw new Error(`making the pod's namespaces ${name}: ${(e as Error).message}`);
  });
}

/**
 * Removes the pod's namespaces' names (as `ip netns del` does: a lazy unmount, then the file) and its /dev/shm; the
 * kernel frees the namespaces, and the veth pair, once no container is left in them. `veth`: its host end too (for a
 * namespace made again while a container may still hold the old one).
 */
export async function removePodNamespaces(name: string, veth?: string): Promise<void> {
  if (veth && interfaces().includes(veth)) await run(IP!, ['link', 'del', veth]).catch(() => {});
  const mounted = [netnsPath(name), ipcPath(name), shmPath(name)].filter((p) => existsSync(p));
  if (!mounted.length) return;
  await run(UMOUNT!, ['-l', ...mounted]).catch(() => {}); // a path not mounted (a half-made pod) is not an error
  await rm(netnsPath(name), { force: true });
  await rm(ipcPath(name), { force: true });
  // rmdir, not rm -r: a /dev/shm still mounted (should its unmount have failed) keeps its files and says so.
  await rmdir(shmPath(name)).catch((e) => { if (e.code !== 'ENOENT') throw e; });
  await rmdir(podDir(name)).catch((e) => { if (e.code !== 'ENOENT') throw e; });
}
