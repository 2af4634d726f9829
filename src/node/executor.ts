// A node executor (a small kubelet): registers its Node, keeps it Ready with heartbeats, and runs one pod worker
// per pod bound to it. It talks to the rest of convergit only through the store.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../model/object.ts';
import { parseQuantity } from '../model/quantity.ts';
import { Informer } from '../store/informer.ts';
import type { Store } from '../store/store.ts';
import type { PodNetwork } from '../netns/pod-network.ts';
import type { ImageCache } from './images.ts';
import { internalIP, markNodeNotReady, nodeCapacity, registerNode, reportNodeStatus, type NodeCapacity } from './node-registration.ts';
import { renewLease, STATUS_REPORT_MS } from './node-lease.ts';
import { PidsFile, readPidsFile, type PidEntry } from './pids-file.ts';
import { PodIps } from './pod-ips.ts';
import { PodWorker, type Adopted, type Clock } from './pod-worker.ts';
import type { ContainerRecord, Runtime } from './runtime/runtime.ts';
import { keyOf } from '../model/key.ts';
import { isPodTerminal } from '../model/pod.ts';
import { OutOfService } from './out-of-service.ts';
import { IpPool } from '../model/ip-pool.ts';
import { readResolvConf } from '../model/resolv-conf.ts';
import { removeOrphanedPodDirs } from './volumes/orphans.ts';
import { emptyDirUsage } from './volumes/emptydir-usage.ts';
import { startEvictionManager } from './eviction-manager.ts';
import type { Taint } from '../model/taints.ts';

export interface NodeOptions {
  store: Store;
  nodeName: string;
  /** Data folder shared with the store: images/, pods/ (logs), nodes/<node>/pids.json. */
  dataDir: string;
  /** Default 127.0.0.1. */
  hostIP?: string;
  /** The Node's InternalIP (and its pods' hostIP) is the first address of its podCIDR instead of hostIP (node-registration.ts). */
  ownAddress?: boolean;
  /** Default: the host's cpus, memory, and 110 pods. */
  capacity?: NodeCapacity;
  labels?: Record<string, string>;
  /** Registered on the Node, as kubelet's --register-with-taints. */
  taints?: Taint[];
  runtime: Runtime;
  images: ImageCache;
  /** How often the node's Lease is renewed and its status checked for changes (the kubelet's 10 s). */
  heartbeatMs?: number;
  /** An unchanged Node status is still written this often (nodeStatusReportFrequency). Default 5 min. */
  statusReportMs?: number;
  /** CrashLoopBackOff: base 10 s doubling to 300 s, reset after an instance ran 600 s. */
  restartBackoff?: { baseMs?: number; maxMs?: number; resetAfterMs?: number };
  /** How long a probe "second" lasts. Default 1000. */
  probeMsPerSecond?: number;
  /** How long a second of termination grace lasts. Default 1000. */
  graceMsPerSecond?: number;
  /** xstate clock for the pod and container machines (back-off and retry waits; a back-off's reset reads `now`). */
  clock?: Clock;
  now?: () => Date;
  log?: (m: string) => void;
  /** Where the nodes' pod CIDRs come from (default 127.1.0.0/16; podman needs a routable range, e.g. 10.244.0.0/16). */
  clusterCIDR?: string;
  /** Runtimes with images: allow `privileged: true` containers. */
  allowPrivileged?: boolean;
  /** Runtimes with images: the image `git:` trees are mounted over (default: the host's system folders). */
  gitImageBase?: string;
  /** nodeInfo.containerRuntimeVersion. */
  containerRuntimeVersion?: string;
  /** The kubelet's --cluster-dns and --cluster-domain; undefined: pods get the host's resolv.conf. */
  dns?: { clusterDNS?: string; clusterDomain: string };
  /** The eviction manager's monitoring period: how often size-limited emptyDirs are measured. Default 10 000 ms. */
  evictionMonitoringMs?: number;
  /** How often the node looks for container processes of no pod (housekeeping). Default 10 000 ms. */
  housekeepingMs?: number;
  /** How long a re-adopted container of a pod bound to no node (a binding lost with a killed serve) waits for the
   * binding before the housekeeping stops it. Default 30 000 ms. */
  pendingBindingMs?: number;
  /** How long a pod's status write waits for the step under way (pod-worker.ts). Default 1000 ms. */
  statusSettleMs?: number;
  /** Where the pods are, when not in this network namespace (rootless podman's): HTTP and TCP probes and hooks connect there. */
  podNetwork?: PodNetwork;
  /** The serve's one view of Services and Endpoints, started, shared by its nodes; without it the node makes its own. */
  outOfService?: OutOfService;
}

/** The most time the nodes of this process spend on queued pod changes before they let the event loop turn. */
const DRAIN_SLICE_MS = 5;
/** Each node's step through its queued pod changes (false once its queue is empty). */
const pacedSteps = new Set<() => boolean>();
let pacing = false;

/**
 * Runs `step` until it says it is done, outside the tick that queued the change (a store write that binds or
 * deletes pods delivers its events synchronously), taking turns with the other nodes' steps, at most DRAIN_SLICE_MS
 * a turn of the event loop for all of them: a scheduler binding 100 pods to each of 10 nodes at once would
 * otherwise start 1,000 pod workers (machines, addresses, folders) in one tick, while the API waits.
 */
function paced(step: () => boolean): void {
  pacedSteps.add(step);
  if (pacing) return;
  pacing = true;
  setImmediate(function turn() {
    const t0 = performance.now();
    while (pacedSteps.size && performance.now() - t0 < DRAIN_SLICE_MS) {
      for (const s of pacedSteps) if (!s()) pacedSteps.delete(s);
    }
    if (pacedSteps.size) setImmediate(turn);
    else pacing = false;
  });
}

export interface RunningNode {
  name: string;
  /** The pod CIDR this node hands addresses out of. */
  podCIDR: string;
  /** Stops every pod gracefully (keeping the objects), marks the Node NotReady; leaves no process behind. */
  stop(): Promise<void>;
  /**
   * Stops managing the pods but leaves their containers running (recorded in pids.json), marks the Node NotReady:
   * the next start on this data folder re-adopts them. What `serve` does when it stops.
   */
  detach(): Promise<void>;
}

export async function startNode(opts: NodeOptions): Promise<RunningNode> {
  const { store, nodeName, dataDir } = opts;
  const now = opts.now ?? (() => new Date());
  const log = opts.log ?? (() => {});
  let hostIP = opts.hostIP ?? '127.0.0.1';

  // The containers a previous run left running (stopped or killed, serve leaves them): re-adopted below.
  const pids = new PidsFile(join(dataDir, 'nodes', nodeName, 'pids.json'));
  const recorded = pids.load();
  // Volume folders of pods removed while no node ran them.
  for (const uid of await removeOrphanedPodDirs(store, dataDir).catch(() => [] as string[])) log(`node ${nodeName}: removed the volumes of pod ${uid}, which is gone`);

  opts.runtime.warmUp?.();
  const node = await registerNode({
    store, nodeName, hostIP, capacity: opts.capacity, labels: opts.labels, taints: opts.taints, now,
    clusterCIDR: opts.clusterCIDR, containerRuntimeVersion: opts.containerRuntimeVersion, ownAddress: opts.ownAddress,
  });
  await renewLease(store, node, now());
  const podCIDR: string = node.spec.podCIDR;
  const ips = new PodIps(podCIDR);
  // The node's own address is its pods' hostIP and where NodePorts listen (network/proxy.ts): never a new pod's.
  if (opts.ownAddress) hostIP = internalIP(node) ?? hostIP;
  // A runtime with sandboxes puts a bridge on the CIDR: its first address is the bridge's, never a pod's.
  if (opts.runtime.createSandbox) ips.reserve('<bridge>', new IpPool(podCIDR).addressAt(0));
  const cap = nodeCapacity(opts.capacity);
  const workers = new Map<string, PodWorker>(); // by pod uid: a pod recreated under the same name is another pod

  // Out of service before stopped (out-of-service.ts).
  const ownView = !opts.outOfService;
  const outOfService = opts.outOfService ?? new OutOfService(store);
  if (ownView) await outOfService.start();
  const waitOutOfService = (pod: KubeObject, timeoutMs: number) => outOfService.wait(pod, timeoutMs, () => stopping);

  const deps = {
    waitOutOfService,
    store, nodeName, hostIP, dataDir, runtime: opts.runtime, images: opts.images, ips, pids,
    allocatable: { cpu: parseQuantity(cap.cpu), memory: parseQuantity(cap.memory) },
    backoff: { baseMs: 10_000, maxMs: 300_000, resetAfterMs: 600_000, ...opts.restartBackoff },
    probeMsPerSecond: opts.probeMsPerSecond ?? 1000,
    graceMsPerSecond: opts.graceMsPerSecond ?? 1000,
    clock: opts.clock, now, log,
    podCIDR, allowPrivileged: opts.allowPrivileged, gitImageBase: opts.gitImageBase, statusSettleMs: opts.statusSettleMs, podNetwork: opts.podNetwork,
    ...(opts.dns && { dns: { ...opts.dns, host: readResolvConf() } }),
  };

  // Only the pods bound here: with many nodes, each would otherwise hold (and be told about) every pod.
  const pods = new Informer(store, 'Pod', { nodeName });
  const queue = new Set<string>();
  let ready = false;
  let stopping = false;
  /** Syncs the oldest queued key; false once none is left. */
  const step = (): boolean => {
    for (const key of queue) {
      queue.delete(key);
      try {
        if (!stopping) sync(key);
      } catch (e) {
        log(`node ${nodeName}: pod ${key}: ${e instanceof Error ? e.message : e}`);
      }
      break;
    }
    return queue.size > 0;
  };
  const enqueue = (p: KubeObject) => {
    queue.add(keyOf(p));
    if (ready) paced(step);
  };

  /** Level-triggered: one worker for the pod bound here under this key, and none for any other pod. */
  function sync(key: string): void {
    const [ns, name] = key.split('/');
    const cached = pods.get(ns, name);
    const pod = cached?.spec?.nodeName === nodeName ? cached : undefined;
    for (const w of workers.values()) if (w.key === key && w.uid !== pod?.metadata.uid) w.gone();
    if (!pod) return;
    const uid = pod.metadata.uid!;
    const existing = workers.get(uid);
    if (existing) return existing.update(pod);
    const w = new PodWorker(pod, deps, adopted.get(uid));
    adopted.delete(uid);
    workers.set(uid, w);
    const usesGitImage = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].some((c: { image?: string }) => opts.images.parse(c.image ?? ''));
    void w.done.then(() => {
      if (workers.get(uid) === w && !stopping) {
        workers.delete(uid);
        if (usesGitImage) void collectImages(); // nothing to collect after a pod that extracted no image
        void opts.runtime.collectImages?.().then(
          (r) => { if (r.removed.length) log(`node ${nodeName}: image gc: the image store's filesystem was ${r.usagePercent}% used: removed ${r.removed.length} unused image(s)`); },
          (e) => log(`node ${nodeName}: image gc: ${e instanceof Error ? e.message : e}`));
      }
    });
    w.start();
  }

  /**
   * Extracted images no pod (of any node sharing this data folder's store) names any more are removed. One
   * collection at a time for all the nodes sharing the image cache, at most one a second (images.ts): it reads every
   * pod, and a deletion of 1,000 pods asked for it 1,000 times, quadratic seconds of serve's loop.
   */
  const collectImages = () => opts.images.collect(async () => {
    // Shared (read only): no copy of every pod for each pod gone.
    return (await store.list('Pod', { shared: true })).flatMap((p) => [...(p.spec?.initContainers ?? []), ...(p.spec?.containers ?? [])].map((c: { image?: string }) => c.image ?? ''));
  }).catch((e) => log(`node ${nodeName}: image gc: ${e instanceof Error ? e.message : e}`));

  pods.on({ add: enqueue, update: (_old, p) => enqueue(p), delete: enqueue });
  await pods.start();
  // Addresses of pods already here are taken before any worker allocates one.
  for (const p of pods.list()) if (p.spec?.nodeName === nodeName) ips.reserve(p.metadata.uid!, p.status?.podIP);
  // After them: a pod that ran before nodes had addresses may hold it, and keeps it (its process is bound there).
  if (opts.ownAddress && !ips.reserve('<node>', hostIP)) log(`node ${nodeName}: its address ${hostIP} is still a pod's, from before nodes had addresses of their own`);
  /**
   * Kills this data folder's container processes that no record names and whose pod `orphan` says is none of this
   * node's (undefined: the pod is gone). The store is read after the runtime listed its processes (see
   * Runtime.removeUnrecorded), so a container started for a pod being bound right now is seen with its binding.
   */
  const removeOrphans = (records: ContainerRecord[], orphan: (pod: KubeObject | undefined) => boolean) =>
    opts.runtime.removeUnrecorded?.(dataDir, records, async (uids) => {
      const byUid = new Map((await store.list('Pod', { shared: true })).map((p) => [p.metadata.uid!, p]));
      return new Set(uids.filter((uid) => orphan(byUid.get(uid))));
    }).catch((e) => [`(failed: ${e instanceof Error ? e.message : e})`]) ?? Promise.resolve([] as string[]);

  // Containers that outlived the previous run go back to their pods' workers; those of pods that are no longer
  // here (deleted, finished, moved) are stopped; those that died meanwhile are forgotten, and their pods' workers
  // start them again.
  const adopted = new Map<string, Map<string, Adopted>>();
  /** Pods bound to no node at the start whose re-adopted containers wait for their binding, since when. */
  const pendingSince = new Map<string, number>();
  const leaving: Promise<unknown>[] = [];
  /** The housekeeping's stops of adopted containers whose pod was not bound here again. */
  const adoptionStops: Promise<unknown>[] = [];
  const podsByUid = new Map(pods.list().map((p) => [p.metadata.uid!, p]));
  const podWanted = (uid: string) => {
    const pod = podsByUid.get(uid);
    return pod?.spec?.nodeName === nodeName && !isPodTerminal(pod);
  };
  const handles = await Promise.all(recorded.map((e) => opts.runtime.adopt?.(e.record, e.launch).catch(() => undefined)));
  // Looked at again once the runtime answered: a pod the scheduler bound here meanwhile re-adopts its containers.
  for (const p of pods.list()) podsByUid.set(p.metadata.uid!, p);
  // Pods bound to no node: their binding was lost with the previous run, and the scheduler is binding them again.
  const unboundByUid = recorded.some((e, i) => handles[i] && !podWanted(e.podUID))
    ? new Map((await store.list('Pod', { shared: true })).filter((p) => !p.spec?.nodeName).map((p) => [p.metadata.uid!, p]))
    : new Map<string, KubeObject>();
  const hasContainer = (pod: KubeObject | undefined, name: string) => [...(pod?.spec?.initContainers ?? []), ...(pod?.spec?.containers ?? [])].some((c: { name: string }) => c.name === name);
  recorded.forEach((e: PidEntry, i) => {
    const handle = handles[i];
    if (!handle) return pids.remove(e.podUID, e.container, e.record);
    const pod = podsByUid.get(e.podUID);
    const unbound = unboundByUid.get(e.podUID);
    const awaitingBinding = !!unbound && !isPodTerminal(unbound) && !unbound.metadata.deletionTimestamp && hasContainer(unbound, e.container);
    if ((podWanted(e.podUID) && hasContainer(pod, e.container)) || awaitingBinding) {
      // Its process listens on the address it was started with: kept for it, also when the status naming that
      // address was lost with the previous run (killed between the start and the status write). Awaiting its
      // binding: kept for the worker the binding here starts (sync); killed by the housekeeping if the pod goes
      // elsewhere, goes away, or stays unbound (pendingAdoptions).
      if (!(opts.runtime.createSandbox && (pod ?? unbound)?.spec?.hostNetwork)) ips.reserve(e.podUID, e.launch.env.POD_IP);
      if (awaitingBinding) pendingSince.set(e.podUID, now().getTime());
      if (!adopted.has(e.podUID)) adopted.set(e.podUID, new Map());
      adopted.get(e.podUID)!.set(e.container, { handle, entry: e });
      return;
    }
    // As the kubelet's housekeeping kills what belongs to no pod bound to it: the pod was deleted, finished, moved,
    // or its binding never reached the disk before the previous run died (it is bound again, maybe elsewhere).
    log(`node ${nodeName}: stopping ${e.launch.id}: its pod is no longer on this node`);
    leaving.push(handle.stop(e.graceMs).then(() => pids.remove(e.podUID, e.container, e.record)));
  });
  // Started just before the previous run died, never recorded: stopped before any worker starts its pod's again —
  // those of pods bound here (whose workers have not started yet), and the orphans of pods bound to no node (their
  // binding was lost with the previous run), finished or gone. Not those of pods bound to another node on this
  // folder: it may be starting them right now.
  const strays = await removeOrphans(recorded.map((e) => e.record), (pod) => !pod || isPodTerminal(pod) || !pod.spec?.nodeName || pod.spec.nodeName === nodeName);
  if (strays.length) log(`node ${nodeName}: stopped ${strays.length} unrecorded container process(es) left by the previous run: ${strays.join(', ')}`);
  // Their sandboxes (runtimes with sandboxes) go once all their containers have stopped.
  const leftSandboxes = new Set(recorded.filter((e) => e.launch.sandbox && !podWanted(e.podUID) && !adopted.has(e.podUID)).map((e) => e.launch.sandbox!));
  if (leftSandboxes.size) leaving.push(Promise.all(leaving).then(() => Promise.all([...leftSandboxes].map((s) => opts.runtime.removeSandbox?.(s).catch(() => {})))));
  const readopted = [...adopted.values()].reduce((n, m) => n + m.size, 0);
  if (recorded.length) log(`node ${nodeName}: re-adopted ${readopted} of ${recorded.length} container(s) left running by the previous run`);
  ready = true;
  paced(step);

  // Pods whose emptyDir outgrew its sizeLimit are evicted (eviction-manager.ts). A runtime whose pods have no
  // folders (hollow) has nothing to measure.
  const evictions = opts.runtime.usesHostFolders === false ? { stop() {} } : startEvictionManager({
    intervalMs: opts.evictionMonitoringMs ?? 10_000,
    pods: () => pods.list().filter((p) => workers.has(p.metadata.uid!) && !isPodTerminal(p) && !p.metadata.deletionTimestamp),
    usage: (pod) => emptyDirUsage(dataDir, pod),
    evict: (pod, message) => workers.get(pod.metadata.uid!)?.evict(message),
    log: (m) => log(`node ${nodeName}: ${m}`),
  });

  /**
   * Re-adopted containers of pods that were bound to no node at the start: taken by their worker once the binding
   * here arrives; stopped once the pod is bound elsewhere, gone, finished or deleting, or still unbound after
   * pendingBindingMs (a container runs only for a pod bound to its node).
   */
  /** A waiting container's grace as this node counts it (the record's is the previous run's). */
  const pendingGraceMs = (uid: string, entry: PidEntry) => {
    const pod = unboundByUid.get(uid);
    return pod ? (pod.spec?.terminationGracePeriodSeconds ?? 30) * deps.graceMsPerSecond : entry.graceMs;
  };
  const pendingAdoptions = async () => {
    for (const [uid, since] of pendingSince) {
      if (workers.has(uid) || !adopted.has(uid)) { pendingSince.delete(uid); continue; }
      const first = adopted.get(uid)!.values().next().value!;
      const [ns, name] = first.entry.launch.id.split('/');
      const pod = await store.get('Pod', ns, name, { shared: true });
      const same = pod?.metadata.uid === uid && !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
      if (same && (pod.spec?.nodeName === nodeName || (!pod.spec?.nodeName && now().getTime() - since < (opts.pendingBindingMs ?? 30_000)))) continue;
      if (workers.has(uid) || stopping) continue; // its binding arrived meanwhile
      const left = [...adopted.get(uid)!.values()];
      adopted.delete(uid);
      pendingSince.delete(uid);
      log(`node ${nodeName}: stopping the container(s) of pod ${ns}/${name}: it was not bound to this node again`);
      // A node stopping its containers meanwhile waits for these, so their records are gone before pids.json is
      // closed; a detaching one (serve exiting) does not: their records stay, and the next start finds them stopped.
      adoptionStops.push(Promise.all(left.map(({ handle, entry }) => handle.stop(pendingGraceMs(uid, entry)).then(() => pids.remove(entry.podUID, entry.container, entry.record))))
        .then(() => { if (!workers.has(uid)) ips.release(uid); }));
    }
  };

  // Housekeeping (the kubelet's HandlePodCleanups): a container process of this folder that no node's pids.json
  // records and whose pod is gone or bound to no node is an orphan (a binding lost with a killed serve, found after
  // the start's check): killed. Pods bound to a node are left to it, whose worker may be starting them right now.
  let housekeeping = false;
  const housekeep = setInterval(() => {
    if (housekeeping || stopping || !opts.runtime.removeUnrecorded) return;
    housekeeping = true;
    void (async () => {
      const files = await readdir(join(dataDir, 'nodes')).catch(() => [] as string[]);
      const records = files.flatMap((n) => readPidsFile(join(dataDir, 'nodes', n, 'pids.json')).map((e) => e.record));
      const killed = await removeOrphans(records, (pod) => !pod || !pod.spec?.nodeName);
      if (killed.length) log(`node ${nodeName}: housekeeping: killed ${killed.length} container process(es) of no pod bound to a node: ${killed.join(', ')}`);
      await pendingAdoptions();
    })().finally(() => { housekeeping = false; });
  }, opts.housekeepingMs ?? 10_000);
  housekeep.unref();

  // The heartbeat is the Lease (node-lease.ts); the Node's status is written when it changes, or every 5 minutes.
  let lastReport = now().getTime();
  const beat = setInterval(() => {
    const t = now();
    const fail = (what: string) => (e: unknown) => log(`node ${nodeName}: ${what}: ${e instanceof Error ? e.message : e}`);
    renewLease(store, node, t).catch(fail('lease'));
    reportNodeStatus(store, nodeName, t, lastReport, opts.statusReportMs ?? STATUS_REPORT_MS).then((wrote) => { if (wrote) lastReport = t.getTime(); }, fail('node status'));
  }, opts.heartbeatMs ?? 10_000);
  beat.unref();
  log(`node ${nodeName}: ready, pod CIDR ${podCIDR}`);

  let stopped: Promise<void> | undefined;
  const stop = (containers: 'stop' | 'keep') => {
    stopped ??= (async () => {
      stopping = true;
      clearInterval(beat);
      clearInterval(housekeep);
      evictions.stop();
      pods.stop();
      // Nobody waits for a proxy any more.
      if (ownView) outOfService.stop();
      else outOfService.recheck();
      // allSettled: a stop that failed is no reason to leave pids.json unclosed.
      await Promise.allSettled([...workers.values()].map((w) => (containers === 'stop' ? w.stopWithNode() : w.detach())));
      // Containers still waiting for their pod's binding: stopped too, or left recorded for the next start.
      if (containers === 'stop') {
        await Promise.allSettled(adoptionStops);
        await Promise.allSettled([...pendingSince.keys()].flatMap((uid) => [...(adopted.get(uid)?.values() ?? [])])
          .map(({ handle, entry }) => handle.stop(pendingGraceMs(entry.podUID, entry)).then(() => pids.remove(entry.podUID, entry.container, entry.record))));
      }
      workers.clear();
      await Promise.allSettled(leaving);
      await pids.close(); // its record on disk before stop returns (a caller may remove the folder next), and no later write
      await markNodeNotReady(store, nodeName, now());
      log(`node ${nodeName}: stopped${containers === 'keep' ? ' (containers left running)' : ''}`);
    })();
    return stopped;
  };
  return {
    name: nodeName,
    podCIDR,
    stop: () => stop('stop'),
    detach: () => stop('keep'),
  };
}
