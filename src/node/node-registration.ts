// The Node object this executor runs: registration (labels, podCIDR, capacity, addresses, nodeInfo), the Ready
// heartbeat, and NotReady when it stops. The podCIDR is the first /24 of the cluster CIDR (127.1.0.0/16 unless
// given) no other Node holds, and a Node keeps the one it has across restarts while it lies in the cluster CIDR.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../model/object.ts';
import { setCondition, type Condition } from '../model/conditions.ts';
import { formatQuantity, parseQuantity } from '../model/quantity.ts';
import { StoreError, type Store } from '../store/store.ts';
import { isoSeconds } from '../model/time.ts';
import { IpPool, parseCidr } from '../model/ip-pool.ts';
import type { Taint } from '../model/taints.ts';

export interface NodeCapacity { cpu?: string; memory?: string; pods?: number }

export interface Registration {
  store: Store;
  nodeName: string;
  hostIP: string;
  capacity?: NodeCapacity;
  labels?: Record<string, string>;
  /** The node's own taints; the ones the control plane manages (node.kubernetes.io/…) are kept as they are. */
  taints?: Taint[];
  now: () => Date;
  /** The range the nodes' /24 pod CIDRs come from. Default 127.1.0.0/16 (loopback: the process runtime's). */
  clusterCIDR?: string;
  /**
   * The node's InternalIP is the first address of its podCIDR (as a bridge CNI's gateway), not `hostIP`: every node
   * of every serve on the machine has an address of its own (loopback cluster CIDRs only: all of 127/8 is local).
   */
  ownAddress?: boolean;
  /** nodeInfo.containerRuntimeVersion, e.g. `podman://4.3.1`. Default `process://`. */
  containerRuntimeVersion?: string;
}

export const DEFAULT_CLUSTER_CIDR = '127.1.0.0/16';


/** Node's names for the platform, as GOOS/GOARCH spell them. */
const goArch = (arch = process.arch) => ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
const goOS = (platform = process.platform) => (platform === 'win32' ? 'windows' : platform);

/** Capacity as Kubernetes prints it: cpu in cores, memory in Ki, pods as a count. */
export function nodeCapacity(c: NodeCapacity = {}): { cpu: string; memory: string; pods: string } {
  const cpu = c.cpu !== undefined ? parseQuantity(c.cpu) : os.cpus().length || 1;
  const memory = c.memory !== undefined ? parseQuantity(c.memory) : os.totalmem();
  return { cpu: formatQuantity(cpu), memory: `${Math.floor(memory / 1024)}Ki`, pods: String(c.pods ?? 110) };
}

const toIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

/**
 * The /24 blocks of a cluster CIDR (/8 to /24), in order: its first 4,096, then, for the process runtime's default
 * range (256 nodes), 127.3.0.0/16 to 127.127.0.0/16 for hollow scale tests of 1,000 nodes (127.2.0.0/16 is the
 * Services' range; 127.128.0.0/16 and up are other serves' blocks, cli/address-blocks.ts; all of 127.0.0.0/8 is
 * loopback on Linux). One entry per CIDR, not per node; a block's text is made when a search first reaches it (the
 * default's 32,256 made at once were ~2 MB kept for the process's life).
 */
interface PodCidrs { first: number; own: number; count: number; made: string[] }
const cidrBlocks = new Map<string, PodCidrs>();
const SCALE_RANGE = { first: 127 * 2 ** 24 + 3 * 2 ** 16, end: 127 * 2 ** 24 + 128 * 2 ** 16 };

function podCidrs(clusterCIDR: string): PodCidrs {
  let blocks = cidrBlocks.get(clusterCIDR);
  if (!blocks) {
    const { first, size } = parseCidr(clusterCIDR);
    if (size < 256 || size > 2 ** 24) throw new Error(`cluster CIDR ${clusterCIDR}: give a prefix from /8 to /24`);
    const own = Math.min(size / 256, 4096);
    const scale = clusterCIDR === DEFAULT_CLUSTER_CIDR ? (SCALE_RANGE.end - SCALE_RANGE.first) / 256 : 0;
    cidrBlocks.set(clusterCIDR, blocks = { first, own, count: own + scale, made: [] });
  }
  return blocks;
}

/** Block `i` (made in order: a search goes from the first). */
const blockAt = (b: PodCidrs, i: number) =>
  (b.made[i] ??= `${toIp(i < b.own ? b.first + i * 256 : SCALE_RANGE.first + (i - b.own) * 256)}/24`);

/** `cidr` is one of the cluster CIDR's blocks. */
function isPodCidr(cidr: string, clusterCIDR: string): boolean {
  const b = podCidrs(clusterCIDR);
  let first: number, size: number;
  try {
    ({ first, size } = parseCidr(cidr));
  } catch {
    return false;
  }
  if (size !== 256 || cidr !== `${toIp(first)}/24`) return false;
  return (first >= b.first && first < b.first + b.own * 256) || (b.count > b.own && first >= SCALE_RANGE.first && first < SCALE_RANGE.end);
}

/** The first /24 of the cluster CIDR that none of `taken` is. */
function freePodCidr(taken: Iterable<string>, clusterCIDR: string): string {
  const used = new Set(taken);
  const b = podCidrs(clusterCIDR);
  for (let i = 0; i < b.count; i++) {
    const cidr = blockAt(b, i);
    if (!used.has(cidr)) return cidr;
  }
  throw new Error(`no free pod CIDR left in ${clusterCIDR}`);
}

function osImage(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'));
    if (m) return m[1];
  } catch { /* not Linux, or no os-release */ }
  return `${os.type()} ${os.release()}`;
}

const HEALTHY: Condition[] = [
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
];

/** Conditions with a fresh heartbeat; `ready` replaces the Ready condition. */
function heartbeatConditions(old: Condition[] | undefined, now: string, ready?: Condition): Condition[] {
  let conditions = old;
  for (const c of HEALTHY) {
    const next = c.type === 'Ready' && ready ? ready : c;
    conditions = setCondition(conditions, { ...next, lastHeartbeatTime: now }, now);
  }
  return conditions!;
}

/** A node's own address: the first of its pod CIDR, never handed to a pod (executor.ts reserves it). */
export const nodeAddress = (podCIDR: string) => new IpPool(podCIDR).addressAt(0);

/** The Node's InternalIP, if it has one. */
export const internalIP = (node: KubeObject | undefined): string | undefined =>
  (node?.status?.addresses as { type: string; address: string }[] | undefined)?.find((a) => a.type === 'InternalIP')?.address;

/** Creates or updates the Node, Ready, and returns it with its podCIDR. */
export async function registerNode(r: Registration): Promise<KubeObject> {
  const { store, nodeName } = r;
  const labels = {
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': goOS(),
    'kubernetes.io/arch': goArch(),
    // The kubelet still sets the deprecated beta labels beside the GA ones, and DaemonSets select on them.
    'beta.kubernetes.io/os': goOS(),
    'beta.kubernetes.io/arch': goArch(),
    ...r.labels,
  };
  let node = await store.get('Node', undefined, nodeName);
  // Shared: only read, once per node registering (a copy of every node each time was O(nodes²) at start-up).
  const others = async () => (await store.list('Node', { shared: true })).filter((n) => n.metadata.name !== nodeName);
  const cluster = r.clusterCIDR ?? DEFAULT_CLUSTER_CIDR;
  const kept: string | undefined = node?.spec?.podCIDR;
  // A CIDR from another range (the node ran another runtime before) is replaced by one of this range.
  let cidr: string = kept && isPodCidr(kept, cluster) ? kept : freePodCidr((await others()).map((n) => n.spec?.podCIDR), cluster);
  for (let attempt = 0; ; attempt++) {
    const managed = ((node?.spec?.taints ?? []) as Taint[]).filter((t) => t.key.startsWith('node.kubernetes.io/'));
    const taints = [...(r.taints ?? []), ...managed];
    const spec = { ...node?.spec, podCIDR: cidr, podCIDRs: [cidr], taints: taints.length ? taints : undefined };
    try {
      node = node
        ? await store.update({ ...node, metadata: { ...node.metadata, labels: { ...node.metadata.labels, ...labels } }, spec })
        : await store.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels }, spec });
    } catch (e) {
      if (!(e instanceof StoreError) || attempt > 5) throw e;
      node = await store.get('Node', undefined, nodeName); // another writer got there first: read and try again
      continue;
    }
    // Two nodes registering at once may pick the same CIDR: the one registered later picks again.
    const clash = (await others()).find((n) => n.spec?.podCIDR === cidr && olderThan(n, node!));
    if (!clash) break;
    if (attempt > 255) throw new Error(`node ${nodeName}: could not find a free pod CIDR`);
    cidr = freePodCidr((await others()).map((n) => n.spec?.podCIDR), cluster);
  }
  const now = isoSeconds(r.now());
  const status = {
    ...node.status,
    capacity: nodeCapacity(r.capacity),
    allocatable: nodeCapacity(r.capacity),
    conditions: heartbeatConditions(node.status?.conditions, now),
    addresses: [{ type: 'InternalIP', address: r.ownAddress ? nodeAddress(cidr) : r.hostIP }, { type: 'Hostname', address: nodeName }],
    nodeInfo: {
      machineID: '', systemUUID: '', bootID: '',
      kernelVersion: os.release(),
      osImage: osImage(),
      containerRuntimeVersion: r.containerRuntimeVersion ?? 'process://',
      kubeletVersion: 'v1.32.0-convergit', // a version string, as clients and `kubectl get nodes` expect
      kubeProxyVersion: '',
      operatingSystem: goOS(),
      architecture: goArch(),
    },
  };
  return store.updateStatus('Node', undefined, nodeName, status);
}

const olderThan = (a: KubeObject, b: KubeObject) => {
  const ta = a.metadata.creationTimestamp ?? '', tb = b.metadata.creationTimestamp ?? '';
  return ta < tb || (ta === tb && a.metadata.name < b.metadata.name);
};

/** Renews lastHeartbeatTime of the node's conditions (Ready=True). */
export async function heartbeat(store: Store, nodeName: string, now: Date): Promise<void> {
  // Shared both ways (read only, result not kept): a thousand nodes' heartbeats copy no Node.
  const node = await store.get('Node', undefined, nodeName, { shared: true });
  if (!node) return;
  const t = isoSeconds(now);
  await store.updateStatus('Node', undefined, nodeName, { ...node.status, conditions: heartbeatConditions(node.status?.conditions, t) }, { shared: true });
}

/** The conditions without their heartbeat times: what a status write would change. */
const withoutHeartbeats = (cs: Condition[] | undefined) => (cs ?? []).map(({ lastHeartbeatTime: _, ...c }) => c);

/**
 * The kubelet's status update with a Lease (tryUpdateNodeStatus): the Node's status is written when it differs
 * from the stored one (someone marked it Unknown, say) or when `reportEveryMs` has passed since `lastReportMs`,
 * not every beat. Returns whether it wrote.
 */
export async function reportNodeStatus(store: Store, nodeName: string, now: Date, lastReportMs: number, reportEveryMs: number): Promise<boolean> {
  const node = await store.get('Node', undefined, nodeName, { shared: true });
  if (!node) return false;
  const t = isoSeconds(now);
  const conditions = heartbeatConditions(node.status?.conditions, t);
  const changed = !isDeepStrictEqual(withoutHeartbeats(conditions), withoutHeartbeats(node.status?.conditions));
  if (!changed && now.getTime() - lastReportMs < reportEveryMs) return false;
  await store.updateStatus('Node', undefined, nodeName, { ...node.status, conditions }, { shared: true });
  return true;
}

/** Ready=False, as when the kubelet stops. */
export async function markNodeNotReady(store: Store, nodeName: string, now: Date, message = 'kubelet stopped'): Promise<void> {
  const node = await store.get('Node', undefined, nodeName);
  if (!node) return;
  const t = isoSeconds(now);
  const ready: Condition = { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message };
  await store.updateStatus('Node', undefined, nodeName, { ...node.status, conditions: heartbeatConditions(node.status?.conditions, t, ready) }, { shared: true });
}
