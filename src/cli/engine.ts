// The workload engine of one `serve`: controllers, scheduler, service addresses and proxy, and the local nodes.
// Started after the API (so status is visible at once) and stopped before the store closes.
import type { Store } from '../store/store.ts';
import { startControllers } from '../controllers/manager.ts';
import { startScheduler } from '../scheduler/scheduler.ts';
import { startServiceAllocator } from '../network/service-allocator.ts';
import { startServiceProxy, type ListeningPort } from '../network/proxy.ts';
import { startIngressController } from '../network/ingress/ingress-controller.ts';
import { startNode } from '../node/executor.ts';
import { ImageCache } from '../node/images.ts';
import { chooseRuntime, type ChosenRuntime } from './runtime-choice.ts';
import { podsCpuGroup } from '../node/runtime/pods-cgroup.ts';
import { spawnInCgroup } from '../node/runtime/process-spawner.ts';
import type { Runtime } from '../node/runtime/runtime.ts';
import type { ImageGCOptions } from '../node/runtime/podman/image-gc.ts';
import type { RegistryMirror } from '../node/runtime/podman/config.ts';
import { join } from 'node:path';
import { startUsageReporter } from '../node/usage-reporter.ts';
import { DEFAULT_LOG_ROTATION, startLogRotator, type LogRotationOptions } from '../node/log-rotation.ts';
import { HollowRuntime, type HollowOptions } from '../node/runtime/hollow/hollow.ts';
import { clashingRoutes, ensureLocalRoute, isLoopbackCidr, refuseOverlappingRanges } from '../network/local-route.ts';
import { startClusterDns, clusterDnsIp, CLUSTER_DOMAIN } from '../network/dns/cluster-dns.ts';
import type { Taint } from '../model/taints.ts';
import { instanceOf, PodmanRuntime } from '../node/runtime/podman/podman.ts';
import type { NetworkOwners } from '../node/runtime/podman/stale-networks.ts';
import { folderHoldsSubnet, podmanReservationFolders } from './address-blocks.ts';
import type { PodNetwork } from '../netns/pod-network.ts';
import { mountNamespaceFlags } from '../node/volumes/mount-namespace.ts';
import { OutOfService } from '../node/out-of-service.ts';

export interface EngineOptions {
  store: Store;
  dataDir: string;
  /** Writes a git tree (an image) into a folder: the watched repository's GitSource.exportTree. */
  exportTree: (oid: string, dest: string) => Promise<void>;
  /** Where NodePorts listen and the nodes' InternalIP. */
  host: string;
  /** 0 runs no node: pods are scheduled nowhere and stay Pending. */
  nodes: number;
  nodeName: string;
  capacity: { cpu?: string; memory?: string; pods?: number };
  labels: Record<string, string>;
  /** Node lifecycle: heartbeats missing this long make a node Unknown (default 40 s). Pods are evicted after their tolerationSeconds, which the store's admission writes (serve.ts). */
  nodeMonitorGracePeriodMs?: number;
  /** The endpoints controller's batching of pod changes per Service (controllers/endpoints.ts; default 100 ms, 0: none). */
  endpointUpdatesBatchPeriodMs?: number;
  /** Taints of every node (kubelet's --register-with-taints). */
  taints?: Taint[];
  /** Labels and taints of single nodes, by name, added to the above; a name no node has is an error. */
  perNode?: { labels: Record<string, Record<string, string>>; taints: Record<string, Taint[]> };
  restartBackoff: { baseMs: number; maxMs: number };
  /** How often nodes measure their containers' cpu and memory (metrics.k8s.io). Default 15 s. */
  metricResolutionMs?: number;
  /** Container log rotation; default the kubelet's (10Mi, 5 files, looked at every 10 s). */
  logRotation?: LogRotationOptions & { intervalMs?: number };
  log: (msg: string) => void;
  /** podman or process; undefined: the data folder's, else podman when it is installed and works, else process (runtime-choice.ts). */
  runtime?: 'podman' | 'process';
  /** The nodes' pod CIDRs come from here; default by runtime (process 127.1.0.0/16, podman 10.244.0.0/16). */
  clusterCIDR?: string;
  /** Services' cluster IPs come from here; default by runtime (process 127.2.0.0/16, podman 10.96.0.0/16). */
  serviceCIDR?: string;
  /** serve's machine-wide reservation (cli/address-blocks.ts), asked once the runtime is chosen: its blocks win. */
  addressBlocks?: (runtime: 'podman' | 'process') => Promise<{ clusterCIDR: string; serviceCIDR: string }>;
  /** podman: the image git trees are mounted over (default: the host's system folders). */
  gitImageBase?: string;
  allowPrivileged?: boolean;
  /** Where the local-path provisioner makes volumes; default <dataDir>/storage. */
  storageDir?: string;
  podPidsLimit?: number;
  /** Process runtime: cpu.shares of the containers' common cgroup (pods-cgroup.ts); undefined: podsShares(); 0: none. */
  podsCpuShares?: number;
  /** --ingress-port and --ingress-tls-port; undefined: 80 and 443 when they can be bound, else 8080 and 8443, else free ports. */
  ingressPort?: number;
  ingressTlsPort?: number;
  /** podman: image garbage collection thresholds (percent) and minimum age. */
  imageGC?: ImageGCOptions;
  /** podman: registry mirrors (--registry-mirror). */
  registryMirrors?: RegistryMirror[];
  /** Given: the nodes run hollow pods (no processes, src/node/runtime/hollow/), for scale tests. */
  hollow?: HollowOptions;
}

export const DEFAULT_CLUSTER_CIDRS = { process: '127.1.0.0/16', podman: '10.244.0.0/16' } as const;
/** Podman's pods reach only addresses outside loopback: kube-dns's range, made local to the host (network/local-route.ts). */
export const DEFAULT_SERVICE_CIDRS = { process: '127.2.0.0/16', podman: '10.96.0.0/16' } as const;

export interface Engine {
  nodeNames: string[];
  /** Where the proxy listens now (NodePorts: the nodes' addresses, and --host where this serve holds the port). */
  listening(): ListeningPort[];
  stop(): Promise<void>;
}

/** Who holds other data folders' podman networks: their reservations and records of address blocks. */
const podmanNetworkOwners: NetworkOwners = {
  folderOf: (instance) => podmanReservationFolders().find((dataDir) => instanceOf(join(dataDir, 'podman')) === instance),
  holds: folderHoldsSubnet,
};

/** `web` for one node; `web-1`, `web-2`… for several. */
export const nodeNames = (base: string, n: number) => (n === 1 ? [base] : Array.from({ length: n }, (_, i) => `${base}-${i + 1}`));

export async function startEngine(opts: EngineOptions): Promise<Engine> {
  const { store, log } = opts;
  const stops: (() => Promise<void>)[] = [];
  try {
    const chosen: ChosenRuntime = opts.hollow
      ? { runtime: new HollowRuntime(opts.hollow) as Runtime, name: 'process' as const, version: 'hollow://', reason: '--hollow', close: () => {} }
      : await chooseRuntime(opts.dataDir, opts.runtime, {
        stateDir: join(opts.dataDir, 'podman'), pidsLimit: opts.podPidsLimit, imageGC: opts.imageGC, registryMirrors: opts.registryMirrors,
        dataDir: opts.dataDir, networkOwners: podmanNetworkOwners, log,
      });
    log(opts.hollow ? 'runtime: hollow (--hollow)' : `runtime: ${chosen.name} (${chosen.reason})`);
    const runtime = chosen.runtime;
    stops.push(async () => chosen.close());
    if (!opts.hollow && chosen.name === 'process' && opts.podsCpuShares !== 0) {
      const group = podsCpuGroup(opts.podsCpuShares);
      if ('dir' in group) {
        const release = spawnInCgroup(group.dir);
        stops.push(async () => release());
        log(`cpu: containers run in ${group.dir} (cpu.shares ${group.shares}; serve and the rest of the machine weigh beside them)`);
      } else if (!group.ordinary) log(`cpu: each container is scheduled on its own: ${group.unavailable}`);
    }
    const blocks = await opts.addressBlocks?.(chosen.name);
    const clusterCIDR = blocks?.clusterCIDR ?? opts.clusterCIDR ?? DEFAULT_CLUSTER_CIDRS[chosen.name];
    const serviceCIDR = blocks?.serviceCIDR ?? opts.serviceCIDR ?? DEFAULT_SERVICE_CIDRS[chosen.name];
    refuseOverlappingRanges(serviceCIDR, clusterCIDR);
    // Undefined: the pods are reached from this network namespace; given to the proxy, DNS, ingress and nodes.
    let podNetwork: PodNetwork | undefined;
    if (runtime instanceof PodmanRuntime && runtime.rootless) {
      // The pods' bridges are in podman's rootless network namespace: ClusterIPs, the DNS and every connection to a
      // pod are made there, by a helper inside it (docs/engine.md, "Rootless podman").
      const netns = await runtime.rootlessNetwork((m) => log(m));
      stops.push(async () => { netns.close(); });
      await netns.localRoute(serviceCIDR);
      podNetwork = netns;
      log(`network: rootless: pods, ClusterIPs (${serviceCIDR}, local there) and the cluster DNS are in podman's rootless network namespace; serve reaches them through its helper there`);
    } else {
      await serviceRange(serviceCIDR, clusterCIDR, opts.dataDir, log);
    }
    const dnsIP = clusterDnsIp(serviceCIDR);
    const allocator = await startServiceAllocator({ store, serviceCidr: serviceCIDR, reserved: [{ ip: dnsIP, holder: 'the cluster DNS' }], log: (m) => log(`services: ${m}`) });
    stops.push(() => allocator.stop());
    // Process and hollow nodes get addresses of their own (their podCIDR's first, in this data folder's block): their
    // InternalIP and pods' hostIP. NodePorts and the ingress listen on a process node's, and on the shared --host only
    // where it is free; a hollow node's proxy is hollow too, as kubemark's: nothing listens on its address
    // (docs/engine.md, "Node addresses").
    const ownAddress = !runtime.createSandbox && isLoopbackCidr(clusterCIDR) && opts.nodes > 0;
    const listenOnNodes = ownAddress && !opts.hollow;
    const proxy = await startServiceProxy({ store, nodeHost: opts.host, nodeAddresses: listenOnNodes, podNetwork, log: (m) => log(`proxy: ${m}`) });
    stops.push(() => proxy.stop());
    const dns = await startDns(store, dnsIP, log, podNetwork);
    if (dns) stops.push(() => dns.close());
    // Not waited for: finding out runs unshare once (hundreds of ms on a loaded machine); the first pod asks the same.
    if (chosen.name === 'process' && !opts.hollow && opts.nodes > 0 && dns) void processPodsDns(dns.port).then(log);
    const ingress = await startIngressController({ store, host: opts.host, nodeAddresses: listenOnNodes, port: opts.ingressPort, tlsPort: opts.ingressTlsPort, log, podNetwork });
    stops.push(() => ingress.stop());
    log(ingress.describe());
    const grace = opts.nodeMonitorGracePeriodMs ?? 40_000;
    const controllers = await startControllers({
      store, log: (m) => log(`controllers: ${m}`),
      localPath: { storageDir: opts.storageDir ?? join(opts.dataDir, 'storage') },
      // The HPA has nothing new to read between two measurements: it syncs at the metric resolution (15 s by default).
      hpa: { syncPeriodMs: opts.metricResolutionMs },
      nodeLifecycle: { gracePeriodMs: grace },
      endpoints: { batchPeriodMs: opts.endpointUpdatesBatchPeriodMs },
    });
    stops.push(() => controllers.stop());
    const images = new ImageCache({ dataDir: opts.dataDir, pull: ({ oid }, dest) => opts.exportTree(oid, dest) });
    const names = nodeNames(opts.nodeName, opts.nodes);
    const stray = [...Object.keys(opts.perNode?.labels ?? {}), ...Object.keys(opts.perNode?.taints ?? {})].filter((n) => !names.includes(n));
    if (stray.length) throw new Error(`--label-node/--taint-node name ${stray.join(', ')}, not a node of this serve (${names.join(', ') || 'none'})`);
    const outOfService = names.length ? new OutOfService(store) : undefined;
    if (outOfService) {
      await outOfService.start();
      stops.push(async () => outOfService.stop()); // after the nodes' (stops run in reverse)
    }
    const nodes: { detach(): Promise<void> }[] = [];
    // Nodes stop together, leaving their containers running: the next serve re-adopts them (`convergit stop`
    // stops them).
    stops.push(async () => { await Promise.all(nodes.map((n) => n.detach())); });
    for (const nodeName of names) {
      nodes.push(await startNode({
        store, nodeName, dataDir: opts.dataDir, hostIP: opts.host, ownAddress, capacity: opts.capacity,
        labels: { ...opts.labels, ...opts.perNode?.labels[nodeName] },
        taints: [...(opts.taints ?? []), ...(opts.perNode?.taints[nodeName] ?? [])],
        runtime, images, restartBackoff: opts.restartBackoff, log, podNetwork, outOfService,
        // The kubelet's 10 s status updates against the 40 s grace period: four beats per grace period, at most 10 s.
        heartbeatMs: Math.min(10_000, Math.max(100, Math.floor(grace / 4))),
        clusterCIDR, containerRuntimeVersion: chosen.version,
        allowPrivileged: opts.allowPrivileged, gitImageBase: opts.gitImageBase,
        // Only a server on port 53 can be a pod's nameserver (resolv.conf names no port).
        ...(dns?.port === 53 && { dns: { clusterDNS: dns.address, clusterDomain: CLUSTER_DOMAIN } }),
      }));
      // Hollow containers have no process to measure and no log to rotate: at 1,000 nodes the two timers read 1,000
      // absent pids.json files every 10–15 s and wrote 67 empty usage records a second (~4% of serve's CPU).
      if (opts.hollow) continue;
      const reporter = startUsageReporter({ store, nodeName, dataDir: opts.dataDir, runtime, resolutionMs: opts.metricResolutionMs, log });
      nodes.push({ detach: () => reporter.stop() });
      const rotator = startLogRotator({
        ...DEFAULT_LOG_ROTATION, ...opts.logRotation, runtime, pidsFile: join(opts.dataDir, 'nodes', nodeName, 'pids.json'), log,
      });
      nodes.push({ detach: () => rotator.stop() });
    }
    // After the local nodes: started before them, it bound every pod of the first sync to the first node to register.
    const scheduler = await startScheduler({ store, log });
    stops.push(() => scheduler.stop());
    return { nodeNames: names, listening: () => proxy.listening(), stop: () => stopAll(stops) };
  } catch (e) {
    await stopAll(stops);
    throw e;
  }
}

/**
 * Checks the service CIDR against the cluster CIDR and the host's routes, and makes one outside loopback local to
 * the host, so ClusterIPs can be listened on and reached from pods and the host (docs/engine.md).
 */
async function serviceRange(serviceCIDR: string, clusterCIDR: string, dataDir: string, log: (m: string) => void): Promise<void> {
  if (isLoopbackCidr(serviceCIDR)) return;
  const clash = await clashingRoutes(serviceCIDR);
  if (clash.length) throw new Error(`--service-cidr ${serviceCIDR} clashes with this host's route(s) ${clash.join(', ')}: give another range`);
  const route = await ensureLocalRoute(serviceCIDR, dataDir);
  if (route.added) log(`services: ${serviceCIDR} made local to this host (ip route add local ${serviceCIDR} dev lo; \`convergit stop\` removes it)`);
  else log(`services: ${serviceCIDR} is already local to this host${route.ours ? '' : ' (a route not added by this data folder: left as it is)'}`);
}

/**
 * The cluster DNS on its address, port 53; where that port needs a privilege this process lacks (the process
 * runtime, not root), port 5353 of the same address, which tools can query but a resolv.conf cannot name.
 */
async function startDns(store: Store, address: string, log: (m: string) => void, podNetwork: PodNetwork | undefined) {
  const dnsLog = (m: string) => log(`dns: ${m}`);
  for (const port of [53, 5353]) {
    try {
      const dns = await startClusterDns({ store, address, port, log: dnsLog, podNetwork });
      log(`dns: cluster DNS on ${address}:${port} (udp, tcp) for *.${CLUSTER_DOMAIN}, other names forwarded to the host's resolvers`);
      return dns;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      log(`dns: can't listen on ${address}:${port}: ${(e as Error).message}`);
      if (code !== 'EACCES') break;
    }
  }
  log('dns: no cluster DNS: pods resolve with the host\'s resolv.conf only');
  return undefined;
}

/** What process pods resolve with, said once: their own resolv.conf needs port 53 and a mount namespace. */
async function processPodsDns(port: number): Promise<string> {
  if (port !== 53) return `dns: process pods keep the host's /etc/resolv.conf and /etc/hosts: a resolv.conf cannot name port ${port} (run serve as root, or allow port 53: sysctl net.ipv4.ip_unprivileged_port_start=53)`;
  const ns = await mountNamespaceFlags();
  if ('problem' in ns) return `dns: process pods keep the host's /etc/resolv.conf and /etc/hosts: ${ns.problem}`;
  const how = ns.flags.includes('--user') ? ' (inside a user namespace: serve is not root)' : '';
  return `dns: process pods get their own /etc/resolv.conf and /etc/hosts, each in a mount namespace of its own${how}`;
}

/** Last started, first stopped: the nodes first, while the proxy and controllers still run. */
async function stopAll(stops: (() => Promise<void>)[]): Promise<void> {
  for (const stop of stops.reverse()) await stop().catch((e) => console.error(e));
}
