// A pod's network namespace made by convergit with iproute2, not by an infra container and CNI. Rootful podman's way
// (an infra container: conmon and three runc runs; then the CNI chain bridge, portmap, firewall, tuning, with a
// dozen iptables runs per pod whose cost grows with the rules of every pod before it) was most of a pod's start-up
// CPU. Here a pod's namespace is a named one (`ip netns add`, bound at /run/netns/<name>, so it outlives serve and
// every container, as an infra container held it), joined by the pod's containers (`nsmode: path`): a veth pair, one
// end in it as eth0 with the pod's address and a default route via the bridge's address, the other on the node's
// bridge (the same bridge podman's network has, so pods made either way reach each other). One shell per pod runs
// two `ip -batch` (about 10 ms of CPU each here, as any exec). Masquerading out of the pod CIDR is one iptables rule per bridge, not one chain per pod.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { IpPool } from '../../../model/ip-pool.ts';

const NETNS_DIR = '/run/netns';
const IP = ['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip', '/bin/ip'].find((p) => existsSync(p));
const IPTABLES = ['/usr/sbin/iptables', '/sbin/iptables', '/usr/bin/iptables'].find((p) => existsSync(p));

/** Whether this machine can make pod namespaces this way (iproute2 and iptables present; root is the caller's check). */
export const podNetnsAvailable = (): boolean => IP !== undefined && IPTABLES !== undefined;

export const netnsPath = (name: string): string => `${NETNS_DIR}/${name}`;

/** Whether the named namespace is there (its bind mount: a `podman pod rm` does not touch it, `ip netns del` does). */
export const hasNetns = (name: string): boolean => existsSync(netnsPath(name));

/** The named namespaces whose names start with `prefix` (an instance's). */
export function netnsNamed(prefix: string): string[] {
  try {
    return readdirSync(NETNS_DIR).filter((n) => n.startsWith(prefix));
  } catch {
    return [];
  }
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

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { timeout: 60_000 }, (e, _out, err) => e ? reject(new Error(String(err).trim() || e.message)) : resolve());
  });
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
 * The pod's namespace `name` with `ip` on eth0, its default route via the bridge's address; an older one of that
 * name (and its veth) is replaced. Loopback up, as every pod has it.
 */
export async function createNetns(name: string, ip: string, cidr: string, bridge: string): Promise<void> {
  const { gateway, bits } = gatewayOf(cidr);
  const veth = hostVeth(name);
  // Two ip runs (each forks nothing; here-documents, no printf): on the host's side the namespace and the veth pair,
  // its host end on the bridge from its making; then in the namespace. A leftover of the same name (a sandbox made
  // again) goes first: its host end while something still holds its namespace, and its name.
  const host = [
    ...(interfaces().includes(veth) ? ['link del $2'] : []),
    ...(hasNetns(name) ? ['netns del $1'] : []),
    'netns add $1',
    'link add $2 master $3 up type veth peer name eth0 netns $1',
  ];
  const inside = ['addr add $4 dev eth0', 'link set eth0 up', 'link set lo up', 'route add default via $5'];
  const script = `"$0" -batch - <<EOF\n${host.join('\n')}\nEOF\n"$0" -n "$1" -batch - <<EOF\n${inside.join('\n')}\nEOF\n`;
  await run('/bin/sh', ['-ec', script, IP!, name, veth, bridge, `${ip}/${bits}`, gateway]).catch(async (e) => {
    await removeNetns(name).catch(() => {});
    throw new Error(`making the pod's network namespace ${name}: ${(e as Error).message}`);
  });
}

/** Removes the namespace's name; the kernel frees it, and its veth pair, once no container is left in it. */
export async function removeNetns(name: string): Promise<void> {
  if (hasNetns(name)) await run(IP!, ['netns', 'del', name]);
}
