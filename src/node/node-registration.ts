// The Node object this executor runs: registration (labels, podCIDR, capacity, addresses, nodeInfo), the Ready
// heartbeat, and NotReady when it stops. The podCIDR is the first 127.1.<n>.0/24 no other Node holds, and a Node
// keeps the one it has across restarts.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { KubeObject } from '../model/object.ts';
import { setCondition, type Condition } from '../model/conditions.ts';
import { formatQuantity, parseQuantity } from '../model/quantity.ts';
import { StoreError, type Store } from '../store/store.ts';
import { isoSeconds } from '../model/time.ts';

export interface NodeCapacity { cpu?: string; memory?: string; pods?: number }

export interface Registration {
  store: Store;
  nodeName: string;
  hostIP: string;
  capacity?: NodeCapacity;
  labels?: Record<string, string>;
  now: () => Date;
}


/** Node's names for the platform, as GOOS/GOARCH spell them. */
const goArch = (arch = process.arch) => ({ x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' } as Record<string, string>)[arch] ?? arch;
const goOS = (platform = process.platform) => (platform === 'win32' ? 'windows' : platform);

/** Capacity as Kubernetes prints it: cpu in cores, memory in Ki, pods as a count. */
export function nodeCapacity(c: NodeCapacity = {}): { cpu: string; memory: string; pods: string } {
  const cpu = c.cpu !== undefined ? parseQuantity(c.cpu) : os.cpus().length || 1;
  const memory = c.memory !== undefined ? parseQuantity(c.memory) : os.totalmem();
  return { cpu: formatQuantity(cpu), memory: `${Math.floor(memory / 1024)}Ki`, pods: String(c.pods ?? 110) };
}

/**
 * The n-th node's /24: 127.1.0.0/16 first (256 nodes); beyond it (hollow scale tests of 1,000 nodes), the /16s
 * from 127.3 on, skipping 127.2.0.0/16, the Services' range. All of 127.0.0.0/8 is loopback on Linux.
 */
const podCidrFor = (n: number) => {
  const block = Math.floor(n / 256);
  return `127.${block === 0 ? 1 : block + 2}.${n % 256}.0/24`;
};
const MAX_NODE_CIDRS = 256 * 253; // 127.1 and 127.3–127.254

/** The first pod CIDR (in the order of podCidrFor) that none of `taken` is. */
function freePodCidr(taken: Iterable<string>): string {
  const used = new Set(taken);
  for (let n = 0; n < MAX_NODE_CIDRS; n++) if (!used.has(podCidrFor(n))) return podCidrFor(n);
  throw new Error('no free pod CIDR left in 127.1.0.0/16 and 127.3.0.0/16–127.254.0.0/16');
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

/** Creates or updates the Node, Ready, and returns it with its podCIDR. */
export async function registerNode(r: Registration): Promise<KubeObject> {
  const { store, nodeName } = r;
  const labels = {
    'kubernetes.io/hostname': nodeName,
    'kubernetes.io/os': goOS(),
    'kubernetes.io/arch': goArch(),
    ...r.labels,
  };
  let node = await store.get('Node', undefined, nodeName);
  const others = async () => (await store.list('Node')).filter((n) => n.metadata.name !== nodeName);
  let cidr: string = node?.spec?.podCIDR ?? freePodCidr((await others()).map((n) => n.spec?.podCIDR));
  for (let attempt = 0; ; attempt++) {
    const spec = { ...node?.spec, podCIDR: cidr, podCIDRs: [cidr] };
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
    cidr = freePodCidr((await others()).map((n) => n.spec?.podCIDR));
  }
  const now = isoSeconds(r.now());
  const status = {
    ...node.status,
    capacity: nodeCapacity(r.capacity),
    allocatable: nodeCapacity(r.capacity),
    conditions: heartbeatConditions(node.status?.conditions, now),
    addresses: [{ type: 'InternalIP', address: r.hostIP }, { type: 'Hostname', address: nodeName }],
    nodeInfo: {
      machineID: '', systemUUID: '', bootID: '',
      kernelVersion: os.release(),
      osImage: osImage(),
      containerRuntimeVersion: 'process://',
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
  const node = await store.get('Node', undefined, nodeName);
  if (!node) return;
  const t = isoSeconds(now);
  await store.updateStatus('Node', undefined, nodeName, { ...node.status, conditions: heartbeatConditions(node.status?.conditions, t) });
}

/** Ready=False, as when the kubelet stops. */
export async function markNodeNotReady(store: Store, nodeName: string, now: Date, message = 'kubelet stopped'): Promise<void> {
  const node = await store.get('Node', undefined, nodeName);
  if (!node) return;
  const t = isoSeconds(now);
  const ready: Condition = { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message };
  await store.updateStatus('Node', undefined, nodeName, { ...node.status, conditions: heartbeatConditions(node.status?.conditions, t, ready) });
}
