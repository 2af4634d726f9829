// One pod on this node: runs podWorkerMachine and a containerMachine per container, provides their side effects
// (address, image, env, process, probes, stop, removal) and writes the pod's status whenever what it knows changes.
import { lstatSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { createActor, waitFor, type Actor, type ActorOptions, type EventFromLogic } from 'xstate';
import type { KubeObject } from '../model/object.ts';
import { StoreError, type Store } from '../store/store.ts';
import { containerArgv, containerCwd } from './command.ts';
import { containerMachine, LaunchError, type ContainerHost, type ContainerInput, type Launched, type RestartPolicy } from './container.machine.ts';
import { ConfigError, containerEnvParts, envView, type EnvParts } from './env.ts';
import type { ImageCache } from './images.ts';
import { containerLogFile, podLogDir, removePodLogs } from './logs.ts';
import type { PidEntry, PidsFile } from './pids-file.ts';
import type { PodIps } from './pod-ips.ts';
import { isSidecar, podStatus, type ContainerFacts, type PodFacts, type Terminated } from './pod-status.ts';
import { podWorkerMachine, type PodWorkerHost, type Prepared } from './pod-worker.machine.ts';
import { Prober } from './prober.ts';
import { runHook, type LifecycleHandler } from './lifecycle-hooks.ts';
import { prepareTerminationLog, terminationLogOf, terminationMessage } from './termination-message.ts';
import { probeOnce, type Probe, type ProbeContext } from './probes.ts';
import { ImagePullError, type ContainerExit, type ContainerLaunch, type EtcFiles, type ImageInfo, type RunningContainer, type Runtime } from './runtime/runtime.ts';
import { containerResources, containerSecurity, hostPorts, imageArgv, imageCwd, pullAuth, pullPolicy } from './container-image.ts';
import { constants } from 'node:os';
import { isoSeconds } from '../model/time.ts';
import { podDnsConfig, type ClusterDnsSettings } from './pod-dns.ts';
import { writePodEtcFiles } from './pod-etc-files.ts';
import { PodVolumeManager } from './volumes/volume-manager.ts';
import { EVICTED } from './eviction-manager.ts';
import { underMount } from './volumes/mount-namespace.ts';
import { laterTurn } from './loop-turns.ts';
import { podHostname } from './pod-hosts.ts';

export type Clock = ActorOptions<typeof podWorkerMachine>['clock'];

export interface PodWorkerDeps {
  store: Store;
  nodeName: string;
  hostIP: string;
  dataDir: string;
  runtime: Runtime;
  images: ImageCache;
  ips: PodIps;
  pids: PidsFile;
  /** Node allocatable in cores and bytes, for resourceFieldRef env. */
  allocatable: { cpu: number; memory: number };
  backoff: { baseMs: number; maxMs: number; resetAfterMs: number };
  probeMsPerSecond: number;
  /** How long a second of termination grace lasts (1000; less in tests). */
  graceMsPerSecond: number;
  clock?: Clock;
  now: () => Date;
  log: (m: string) => void;
  /** Resolves once no Service sends the pod new connections and in-flight ones have drained, or after timeoutMs. */
  waitOutOfService?: (pod: KubeObject, timeoutMs: number) => Promise<void>;
  /** The node's pod CIDR (runtimes with sandboxes put the pod's address on its bridge). */
  podCIDR?: string;
  /** Runtimes with images: `privileged: true` is refused unless this is set. */
  allowPrivileged?: boolean;
  /** Runtimes with images: the image a `git:` image's tree is mounted over; undefined: the host's system folders. */
  gitImageBase?: string;
  /** Runtimes with sandboxes: the cluster DNS and the host's resolv.conf, from which each pod's is computed. */
  dns?: ClusterDnsSettings;
  /** How often configMap, secret and downwardAPI volumes are rewritten from their sources (default 1000 ms). */
  volumeSyncMs?: number;
  /** How long a status write waits for a step under way (preparing the pod, first launches, stopping for good). Default 1000 ms. */
  statusSettleMs?: number;
  /** Where the pods are, when not in this network namespace (rootless podman's). */
  podNetwork?: ProbeContext['podNetwork'];
}

/**
 * A status write waits this long at most for the step under way to end (preparing the pod, launching a container's
 * first instance, stopping its containers for good): a pod that starts quickly then writes one status (Running) rather than three
 * (no address yet, ContainerCreating, Running), and one that stops quickly one (terminated) rather than two (unready,
 * terminated). Each write is a store write, a persist, a watch event to every informer and a ReplicaSet resync,
 * thousands of them in a scale-up or a deletion of 1,000 pods.
 */
const STATUS_SETTLE_MS = 1000;

/** A container that outlived the previous run of the node, re-adopted through the runtime. */
export interface Adopted { handle: RunningContainer; entry: PidEntry }

interface Slot {
  spec: any;
  /** An app container, a regular init container (runs to completion first) or a sidecar (an init container with
   * `restartPolicy: Always`, running beside the app containers). */
  kind: 'app' | 'init' | 'sidecar';
  /** Re-adopted rather than started: its probes carry on from the status it had. */
  adopted?: { ready: boolean; started: boolean };
  actor: Actor<typeof containerMachine>;
  /** The launch in progress or done; a stop waits for it so that no process escapes. */
  launching?: Promise<RunningContainer>;
  handle?: RunningContainer;
  launch?: ContainerLaunch;
  /** The current instance's process is alive (its exit not yet seen). */
  running: boolean;
  /** A stop came: a launch still resolving its image or env must not start a process. */
  cancelled?: boolean;
  /** The last pull failed: the next attempt is a back-off retry. */
  pullFailed?: boolean;
  probers: Prober[];
  lastValue?: string;
}

const errMessage = (e: unknown) => (e instanceof Error ? e.message : String(e));
/** The host's PATH and HOME for a host process, read once: each read of process.env makes a new string, and every
 * container keeps its env for its life (a 400-byte PATH per pod at 30,000 pods). */
let hostVars: Record<string, string> | undefined;
const hostEnv = () => (hostVars ??= Object.fromEntries(['PATH', 'HOME'].filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]!])));

/** A runtime exit as Kubernetes' ContainerStateTerminated. */
function terminatedOf(exit: ContainerExit, containerID?: string): Terminated {
  const signal = exit.signal ? constants.signals[exit.signal as NodeJS.Signals] : undefined;
  return {
    exitCode: exit.exitCode ?? 128 + (signal ?? 0),
    ...(signal !== undefined && { signal }),
    reason: exit.reason,
    ...(exit.message && { message: exit.message }),
    startedAt: isoSeconds(exit.startedAt),
    finishedAt: isoSeconds(exit.finishedAt),
    ...(containerID && { containerID }),
  };
}

/** A regular init container is restarted on failure unless the pod's policy is Never; a sidecar always. */
function containerRestartPolicy(kind: Slot['kind'], pod: RestartPolicy | undefined): RestartPolicy | undefined {
  if (kind === 'sidecar') return 'Always';
  if (kind === 'init') return pod === 'Never' ? 'Never' : 'OnFailure';
  return pod;
}

/** Grace in seconds for stopping `pod`: the deletion's, else the spec's, else Kubernetes' 30. */
const graceSeconds = (pod: KubeObject): number =>
  pod.metadata.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;

export class PodWorker {
  readonly uid: string;
  readonly key: string;
  private pod: KubeObject;
  private readonly actor: Actor<typeof podWorkerMachine>;
  private readonly slots = new Map<string, Slot>();
  /** No container may start any more (terminating or the node stopping). */
  private halted = false;
  private starting?: Promise<void>;
  /** The object was removed (by us or someone else): no more status writes. */
  private removed = false;
  /** Found Succeeded/Failed at start: its status is final and nothing is written. */
  private readonly foundTerminal: boolean;
  private nodeStopped = false;
  /** The node stops but its containers keep running, for the next start to re-adopt. */
  private detaching = false;
  /** The node is stopping and the last status is written: nothing more is. */
  private frozen = false;
  /** Container statuses as found when the worker began: what a resumed container carries on from. Our own status
   * writes replace them in the store before the containers start, so they are kept here. */
  private readonly found: any[];
  private readonly foundInit: any[];
  /** A regular init container failed for good (restartPolicy Never): the pod has failed. */
  private initFailed = false;
  /** The app containers have all finished: the sidecars are being stopped. */
  private sidecarsStopping = false;
  /** Being removed: a pod whose containers have all stopped gets a terminal phase. */
  private terminal = false;
  /** Evicted by the eviction manager, with this message: the pod is Failed, reason Evicted. */
  private evictedMessage?: string;
  private dirty = false;
  private writing?: Promise<void>;
  /** Steps under way (preparing, a container's first launch, stopping for good): a status write waits a moment for them. */
  private readonly stepping = new Set<Promise<unknown>>();
  /** The pod's sandbox, on runtimes that have them. */
  private sandbox?: string;
  private sandboxCheck?: Promise<void>;
  /** Without a sandbox (the process runtime): the pod's own resolv.conf and hosts, for its containers to mount. */
  private etcFiles?: EtcFiles;
  /** The pod's volumes on this node and its containers' mounts of them. */
  private readonly volumes: PodVolumeManager;
  /** Settles when the worker is done: pod removed, gone, or stopped with the node. */
  readonly done: Promise<void>;

  constructor(pod: KubeObject, private readonly deps: PodWorkerDeps, private readonly adopted = new Map<string, Adopted>()) {
    this.pod = pod;
    this.uid = pod.metadata.uid!;
    this.key = `${pod.metadata.namespace ?? 'default'}/${pod.metadata.name}`;
    this.foundTerminal = pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
    this.volumes = new PodVolumeManager(() => this.pod, deps, (type, reason, message) => this.event(type, reason, message));
    this.found = pod.status?.containerStatuses ?? [];
    this.foundInit = pod.status?.initContainerStatuses ?? [];
    const host: PodWorkerHost = {
      prepare: () => this.step(this.prepare()),
      startContainers: () => (this.starting = this.startContainers()),
      terminate: (graceMs, remove) => this.terminate(graceMs, remove),
      stopForNode: () => this.stopForNode(),
      allDone: () => this.allDone(),
    };
    const input = {
      host,
      terminal: this.foundTerminal,
      deleting: !!pod.metadata.deletionTimestamp,
      graceMs: this.graceMs(pod),
      retryMs: deps.backoff.baseMs,
    };
    this.actor = createActor(podWorkerMachine, deps.clock ? { input, clock: deps.clock } : { input });
    this.done = new Promise((resolve) => {
      this.actor.subscribe({ next: (s) => { if (s.status === 'done') resolve(); }, error: (e) => { deps.log(`pod ${this.key}: ${errMessage(e)}`); resolve(); } });
    });
    this.actor.subscribe(() => this.scheduleStatus());
  }

  start(): void {
    this.actor.start();
  }

  /** A newer version of the pod: a deletion mark starts termination. */
  update(pod: KubeObject): void {
    this.pod = pod;
    if (!pod.metadata.deletionTimestamp) return;
    if (this.actor.getSnapshot().matches('terminating')) {
      // A later delete may shorten the grace period (never lengthen it): the runtime takes the shorter one. Other
      // updates (our own status writes) change nothing: a preStop hook under way runs on.
      const graceMs = this.graceMs(pod);
      if (graceMs < this.actor.getSnapshot().context.graceMs) for (const s of this.slots.values()) if (s.running) void s.handle?.stop(graceMs);
      return;
    }
    this.send({ type: 'DELETE', graceMs: this.graceMs(pod) });
  }

  /** The pod left the store (force delete) or this node: stop it the same way, nothing to remove. */
  gone(): void {
    this.removed = true;
    this.send({ type: 'GONE', graceMs: this.graceMs(this.pod) });
  }

  /** The node stops: stop the containers gracefully, keep the object (the next start resumes it). */
  async stopWithNode(): Promise<void> {
    this.send({ type: 'NODE_STOP' });
    await this.done;
  }

  /** The node stops but the containers run on: no status is written (it stays true), nothing is killed. */
  async detach(): Promise<void> {
    this.detaching = true;
    this.send({ type: 'NODE_STOP' });
    await this.done;
  }

  /**
   * The eviction manager's kill (upstream's evictPod with grace 0): a Warning event, the containers stopped at once,
   * the pod Failed with reason Evicted and `message`; the object stays for its controller to see and replace.
   */
  evict(message: string): void {
    const snap = this.actor.getSnapshot();
    if (this.evictedMessage !== undefined || this.foundTerminal || !(['launch', 'prepareFailed', 'running'] as const).some((s) => snap.matches(s))) return;
    this.evictedMessage = message;
    this.event('Warning', EVICTED, message);
    this.send({ type: 'EVICT' });
  }

  /** A finished worker takes no more events. */
  private send(e: EventFromLogic<typeof podWorkerMachine>): void {
    if (this.actor.getSnapshot().status === 'active') this.actor.send(e);
  }

  private graceMs(pod: KubeObject): number {
    return graceSeconds(pod) * this.deps.graceMsPerSecond;
  }

  private get ns(): string {
    return this.pod.metadata.namespace ?? 'default';
  }

  private get podRef() {
    return { namespace: this.ns, name: this.pod.metadata.name, uid: this.uid };
  }

  /** Per-pod folder for containers whose image is not a git image. No container name holds a `_`, so it never clashes with a log folder. */
  private get scratchDir(): string {
    return join(podLogDir(this.deps.dataDir, this.podRef), '_scratch');
  }

  private event(type: 'Normal' | 'Warning', reason: string, message: string): void {
    const { name } = this.pod.metadata;
    this.deps.store.recordEvent({ apiVersion: 'v1', kind: 'Pod', namespace: this.ns, name, uid: this.uid }, type, reason, message).catch(() => {});
  }

  // ---- pod steps -------------------------------------------------------------------------------------------------

  private async prepare(): Promise<Prepared> {
    const { runtime, ips, hostIP } = this.deps;
    // With a sandbox of its own, a hostNetwork pod has the node's address, as in Kubernetes.
    const hostNetwork = !!runtime.createSandbox && !!this.pod.spec?.hostNetwork;
    let podIP: string;
    try {
      podIP = hostNetwork ? hostIP : ips.allocate(this.uid, this.pod.status?.podIP);
      if (runtime.createSandbox && !this.sandbox) await this.createSandbox(podIP, hostNetwork);
    } catch (e) {
      this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${errMessage(e)}`);
      throw e;
    }
    if (runtime.usesHostFolders !== false) await mkdir(this.scratchDir, { recursive: true });
    // The kubelet's per-pod resolv.conf and /etc/hosts, where no sandbox gives them (docs/engine.md, "Pods' resolv.conf").
    if (!runtime.createSandbox && runtime.usesHostFolders !== false && this.deps.dns) {
      this.etcFiles = await writePodEtcFiles(join(podLogDir(this.deps.dataDir, this.podRef), '_etc'), this.pod, podIP, this.deps.dns);
    }
    await this.volumes.setUp(podIP); // FailedMount: prepared again after a while
    return { podIP, startTime: this.pod.status?.startTime ?? isoSeconds(this.deps.now()) };
  }

  /** The pod's kernel hostname (its FQDN with setHostnameAsFQDN): the sandbox's, or each process container's. */
  private hostname(): string {
    return podHostname(this.pod, this.deps.dns?.clusterDomain ?? 'cluster.local');
  }

  private async createSandbox(ip: string, hostNetwork: boolean): Promise<void> {
    this.sandbox = await this.deps.runtime.createSandbox!({
      id: this.key, uid: this.uid, podCIDR: this.deps.podCIDR ?? '', ip, hostNetwork,
      hostname: this.hostname(), hostPorts: hostPorts(this.pod),
      ...(this.pod.spec?.hostAliases?.length && { hostAliases: this.pod.spec.hostAliases }),
      ...(this.deps.dns && { dns: podDnsConfig(this.pod, this.deps.dns) }),
    });
  }

  /**
   * Before a container restarts: a sandbox removed or dead under the pod (`podman pod rm -f` from outside) is made
   * anew, with the pod's address, as the kubelet does when its PLEG finds the sandbox gone ("SandboxChanged"); its
   * containers died with it and restart as their policy says. One check at a time: the pod's containers share it.
   */
  private ensureSandbox(): Promise<void> {
    const { runtime } = this.deps;
    if (!this.sandbox || !runtime.sandboxReady || !runtime.createSandbox) return Promise.resolve();
    this.sandboxCheck ??= (async () => {
      if (await runtime.sandboxReady!(this.sandbox!)) return;
      this.event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
      const hostNetwork = !!this.pod.spec?.hostNetwork;
      const ip = hostNetwork ? this.deps.hostIP : this.deps.ips.ipOf(this.uid);
      await this.removeSandbox();
      try {
        if (ip) await this.createSandbox(ip, hostNetwork);
      } catch (e) {
        this.event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: ${errMessage(e)}`);
        throw new Error(`Failed to create pod sandbox: ${errMessage(e)}`); // CreateContainerError, retried
      }
    })().finally(() => { this.sandboxCheck = undefined; });
    return this.sandboxCheck;
  }

  /** The sandbox goes once its containers have stopped. */
  private async removeSandbox(): Promise<void> {
    if (!this.sandbox) return;
    const sandbox = this.sandbox;
    this.sandbox = undefined;
    await this.deps.runtime.removeSandbox?.(sandbox).catch((e) => this.deps.log(`pod ${this.key}: removing its sandbox: ${errMessage(e)}`));
  }

  /**
   * Runs the init containers in order, as the kubelet does: a regular one to completion (restarted on failure
   * unless the pod's restartPolicy is Never, which fails the pod), a sidecar until it has started (its startup
   * probe passed), then it runs on. Then the app containers in spec order, each once the previous one has been
   * launched (or failed to be).
   */
  private async startContainers(): Promise<void> {
    for (const spec of this.pod.spec?.initContainers ?? []) {
      if (this.halted) return;
      const kind = isSidecar(spec) ? 'sidecar' : 'init';
      const slot = this.startSlot(spec, kind, this.foundInit);
      const snap = await waitFor(slot.actor, (s) => s.status !== 'active' || s.matches('done') || (kind === 'sidecar' && s.matches({ instance: 'running' }) && s.context.started));
      if (this.halted) return;
      const state = snap.context.state;
      if (kind === 'init' && !('terminated' in state && state.terminated.exitCode === 0)) {
        // Failed for good (restartPolicy Never): the pod fails, its sidecars are stopped.
        this.initFailed = true;
        await this.stopSidecars(this.graceMs(this.pod));
        this.checkCompleted();
        return;
      }
    }
    for (const spec of this.pod.spec?.containers ?? []) {
      if (this.halted) return;
      const slot = this.startSlot(spec, 'app', this.found);
      await waitFor(slot.actor, (s) => !s.matches('init') && !s.matches({ instance: 'creating' }));
    }
  }

  private startSlot(spec: any, kind: Slot['kind'], found: any[]): Slot {
    const adopted = this.adopted.get(spec.name);
    this.adopted.delete(spec.name);
    const slot = this.newSlot(spec, kind, found.find((s) => s.name === spec.name), adopted);
    this.slots.set(spec.name, slot);
    slot.actor.start();
    return slot;
  }

  /** Stops the running sidecars in reverse order, as the kubelet does once the app containers have stopped. */
  private async stopSidecars(graceMs: number): Promise<void> {
    const sidecars = [...this.slots.values()].filter((s) => s.kind === 'sidecar').reverse();
    const deadline = Date.now() + graceMs;
    for (const s of sidecars) {
      s.cancelled = true;
      if (s.actor.getSnapshot().status !== 'active') continue;
      s.actor.send({ type: 'STOP', graceMs: Math.max(0, deadline - Date.now()) });
      await waitFor(s.actor, (snap) => snap.status !== 'active').catch(() => {});
    }
  }

  private async terminate(graceMs: number, remove: boolean): Promise<void> {
    this.terminal = true;
    let left = graceMs;
    const running = [...this.slots.values()].some((s) => s.running || s.launching) || this.adopted.size > 0;
    if (remove && running && this.deps.waitOutOfService) {
      // Out of its Services first, then SIGTERM: an app that exits at once on SIGTERM drops no request. The wait
      // comes out of the grace period, as a preStop hook's does, and SIGTERM still gets 2 s (kubelet's minimum).
      const t0 = Date.now();
      await this.deps.waitOutOfService(this.pod, graceMs);
      left = Math.max(graceMs - (Date.now() - t0), Math.min(graceMs, 2 * this.deps.graceMsPerSecond));
    }
    await this.stopContainers(left);
    await this.removeSandbox();
    const { store, ips, log } = this.deps;
    // Evicted: the Failed status is the last the node writes; the object stays.
    if (this.evictedMessage !== undefined && !this.removed) {
      await this.flushStatus();
      this.frozen = true;
    }
    if (remove && !this.removed) {
      // Paced as the stops are (loop-turns.ts): the last status write and the removal, each a store write with its
      // watch events, a few pods a turn.
      await laterTurn();
      await this.flushStatus();
      this.frozen = true; // the status just written is the last
      try {
        await laterTurn();
        const cur = await store.get('Pod', this.ns, this.pod.metadata.name, { shared: true });
        if (cur?.metadata.uid === this.uid) await store.delete('Pod', this.ns, this.pod.metadata.name, { gracePeriodSeconds: 0 });
      } catch (e) {
        log(`pod ${this.key}: removing it failed: ${errMessage(e)}`);
      }
    }
    this.removed = true;
    ips.release(this.uid); // only now: its processes are gone
    await this.volumes.tearDown();
    // An evicted pod's logs stay readable until the pod is deleted (its next worker removes them then).
    if (this.evictedMessage === undefined) await removePodLogs(this.deps.dataDir, this.podRef).catch(() => {});
  }

  private async stopForNode(): Promise<void> {
    if (this.detaching) {
      // The status in the store is right (the containers still run); the next start re-adopts them from pids.json.
      this.frozen = true;
      this.volumes.stopSync();
      this.halted = true;
      for (const s of this.slots.values()) {
        s.cancelled = true; // not started yet: not started at all
        this.stopProbes(s);
        s.actor.stop();
      }
      // A start already under way runs on: waited for, so that it is recorded in pids.json before serve exits. Not
      // waited for, its process ran on unrecorded: the next serve's housekeeping killed it at best, `convergit stop`
      // missed it and freed its address block, and the next serve there met EADDRINUSE on its pods' addresses.
      await Promise.all([...this.slots.values()].map((s) => s.launching?.catch(() => {})));
      return;
    }
    // The status written now (containers unready, states as they were) is the one the next start resumes from: the
    // exits this stop causes are not the containers' own, so they must not make the pod Failed or Succeeded.
    this.nodeStopped = true;
    this.volumes.stopSync();
    await this.flushStatus();
    this.frozen = true;
    await this.stopContainers((this.pod.spec?.terminationGracePeriodSeconds ?? 30) * this.deps.graceMsPerSecond);
    await this.removeSandbox();
  }

  private async stopContainers(graceMs: number): Promise<void> {
    this.halted = true;
    const deadline = Date.now() + graceMs;
    const stop = () => {
      for (const s of this.slots.values()) {
        s.cancelled = true; // a launch still resolving its image or env must not start a process after this
        // Sidecars last, once the app containers have stopped (below); one that has not started yet holds up the
        // start loop (which waits for it), so it stops now.
        const snap = s.actor.getSnapshot();
        if ((s.kind !== 'sidecar' || !snap.context.started) && snap.status === 'active') s.actor.send({ type: 'STOP', graceMs });
      }
    };
    stop();
    await this.starting?.catch(() => {});
    stop(); // any container the start loop launched meanwhile
    // Re-adopted containers that no slot took over (the pod was found being deleted) are stopped the same way.
    const leftovers = [...this.adopted.values()].map(async ({ handle, entry }) => {
      await handle.stop(graceMs);
      this.deps.pids.remove(this.uid, entry.container, entry.record);
    });
    this.adopted.clear();
    const others = [...this.slots.values()].filter((s) => s.kind !== 'sidecar');
    await Promise.all(others.map((s) => waitFor(s.actor, (snap) => snap.status !== 'active').catch(() => {})).concat(leftovers));
    await this.stopSidecars(Math.max(0, deadline - Date.now()));
  }

  // ---- containers ------------------------------------------------------------------------------------------------

  private newSlot(spec: any, kind: Slot['kind'], old: any, adopted?: Adopted): Slot {
    const slot = { spec, kind, running: false, probers: [] } as unknown as Slot;
    let resumeRunning: ContainerInput['adopted'];
    if (adopted) {
      // It runs on: the same instance, its count, its log file; ready as it was until its probes say otherwise.
      const { handle, entry } = adopted;
      const ready = spec.readinessProbe ? old?.ready === true : true;
      slot.adopted = { ready, started: old?.started ?? true };
      slot.handle = handle;
      slot.launch = entry.launch;
      slot.running = true;
      slot.launching = Promise.resolve(handle);
      resumeRunning = {
        containerID: this.containerID(handle) ?? '', imageID: old?.imageID ?? '',
        startedAt: isoSeconds(handle.startedAt), restartCount: Math.max(old?.restartCount ?? 0, entry.restartCount), ready,
      };
    }
    const host: ContainerHost = {
      // A container's first instance is a step of the pod's start; a restart is not: the exit before it is shown.
      launch: (restartCount) => (restartCount === 0 ? this.step(this.launch(slot, restartCount)) : this.launch(slot, restartCount)),
      wait: () => this.waitExit(slot),
      // Stopping for good (the pod terminating, the node stopping): a step, like a start. A liveness kill is not: the
      // container's unreadiness is written at once.
      kill: (graceMs) => (this.halted ? this.step(this.kill(slot, graceMs)) : this.kill(slot, graceMs)),
      startProbes: () => this.startProbes(slot),
      stopProbes: () => this.stopProbes(slot),
    };
    const { backoff } = this.deps;
    const input: ContainerInput = {
      host,
      name: spec.name,
      podRef: `${this.pod.metadata.name}_${this.ns}(${this.uid})`,
      restartPolicy: containerRestartPolicy(kind, this.pod.spec?.restartPolicy),
      hasReadiness: !!spec.readinessProbe,
      hasStartup: !!spec.startupProbe,
      killGraceMs: (this.pod.spec?.terminationGracePeriodSeconds ?? 30) * this.deps.graceMsPerSecond,
      baseMs: backoff.baseMs,
      maxMs: backoff.maxMs,
      resetAfterMs: backoff.resetAfterMs,
      resume: old && { state: old.state, lastState: old.lastState, restartCount: old.restartCount },
      adopted: resumeRunning,
      now: isoSeconds(this.deps.now()),
      nowMs: () => this.deps.now().getTime(),
    };
    slot.actor = createActor(containerMachine, this.deps.clock ? { input, clock: this.deps.clock } : { input });
    slot.actor.subscribe((s) => {
      // `pullBackoff.backingOff` for a nested state.
      const value = typeof s.value === 'string' ? s.value : Object.entries(s.value).map(([k, v]) => `${k}.${String(v)}`).join();
      if (value !== slot.lastValue) {
        this.onContainerState(slot, value);
        // An exit (Error, Completed, CrashLoopBackOff) is written at once, as the kubelet's next sync would: folded
        // into the step under way it could vanish (an init container failing, then passing on its restart).
        if (/^(exited|backoff|done|configError)/.test(value)) this.exitSeen();
      }
      slot.lastValue = value;
      this.scheduleStatus();
      this.checkCompleted();
    });
    return slot;
  }

  /** Kubernetes-style events when a container enters a state worth telling. */
  private onContainerState(slot: Slot, value: string): void {
    const c = slot.actor.getSnapshot().context;
    const waiting = 'waiting' in c.state ? c.state.waiting : undefined;
    if (value === 'backoff') this.event('Warning', 'BackOff', `Back-off restarting failed container ${c.name} in pod ${this.pod.metadata.name}_${this.ns}(${this.uid})`);
    if (value === 'configError') this.event('Warning', 'Failed', `Error: ${waiting?.message ?? waiting?.reason}`);
    if (value === 'pullBackoff.backingOff') {
      this.event('Normal', 'BackOff', `Back-off pulling image ${JSON.stringify(slot.spec.image ?? '')}`);
      this.event('Warning', 'Failed', 'Error: ImagePullBackOff');
    }
  }

  private async launch(slot: Slot, restartCount: number): Promise<Launched> {
    const { images, runtime, store, pids } = this.deps;
    const spec = slot.spec;
    const image: string = spec.image ?? '';
    let base = this.scratchDir;
    let imageID = '';
    const gitImage = !!images.parse(image);
    if (gitImage) {
      try {
        base = await images.ensure(image);
      } catch (e) {
        throw new LaunchError('ErrImagePull', errMessage(e));
      }
      imageID = image;
    }
    const pod = this.pod;
    // Shared: only read (env values, pull secrets), so no copy of the namespace's ConfigMaps, Secrets and Services
    // for every container started.
    const [configMaps, secrets, services] = await Promise.all(['ConfigMap', 'Secret', 'Service'].map((k) => store.list(k, { namespace: this.ns, shared: true })));
    const byName = (objs: KubeObject[]) => new Map(objs.map((o) => [o.metadata.name, o]));
    // Runtimes with images: a registry image is pulled (its ENTRYPOINT/CMD/WorkingDir then count); a git image's
    // tree is mounted at its own path over the base (the host's system folders unless --git-image-base names one).
    let pulled: ImageInfo | undefined;
    let extra: Partial<ContainerLaunch> = {};
    if (runtime.pullImage) {
      if (spec.securityContext?.privileged && !this.deps.allowPrivileged) {
        throw new LaunchError('CreateContainerConfigError', `container "${spec.name}" is privileged, which this node does not allow (serve --allow-privileged)`);
      }
      const baseImage = gitImage ? this.deps.gitImageBase : image;
      if (baseImage) pulled = await this.pull(slot, baseImage, gitImage ? { image: baseImage, imagePullPolicy: 'IfNotPresent' } : spec, byName(secrets));
      if (restartCount > 0) await this.ensureSandbox();
      extra = {
        ...(pulled && { image: pulled.id }),
        ...(this.sandbox && { sandbox: this.sandbox }),
        ...(gitImage && { mounts: [{ hostPath: base, containerPath: base, readOnly: true }] }),
      };
      if (!gitImage && pulled) imageID = pulled.imageID;
    }
    // Every runtime gets them: it applies what it can and warns of the rest (ResourcesNotEnforced).
    extra = { ...extra, resources: containerResources(spec), security: containerSecurity(pod, spec) };
    const fromImage = !!pulled && !gitImage;
    let parts: EnvParts, env: Record<string, string>, argv: string[];
    try {
      parts = containerEnvParts(pod, spec, {
        configMaps: byName(configMaps), secrets: byName(secrets), services,
        podIP: this.deps.ips.ipOf(this.uid) ?? (pod.spec?.hostNetwork ? this.deps.hostIP : ''), hostIP: this.deps.hostIP,
        allocatable: this.deps.allocatable,
        // An image brings its own PATH; the host's programs need the host's.
        host: fromImage || (gitImage && pulled) ? {} : hostEnv(),
      });
      // terminationMessagePath: a file per instance beside its log, mounted there by runtimes with mounts; a host
      // process cannot have its own /dev/termination-log, so the process runtime names the file in an env var.
      const terminationLog = terminationLogOf(containerLogFile(this.deps.dataDir, this.podRef, spec.name, restartCount));
      if (runtime.pullImage) {
        await prepareTerminationLog(terminationLog);
        extra.mounts = [...(extra.mounts ?? []), { hostPath: terminationLog, containerPath: spec.terminationMessagePath ?? '/dev/termination-log' }];
      } else parts.own.CONVERGIT_TERMINATION_MESSAGE_PATH = terminationLog;
      env = envView(parts);
      argv = fromImage ? imageArgv(spec, pulled!, env) : containerArgv(spec, env);
    } catch (e) {
      if (e instanceof ConfigError) throw new LaunchError('CreateContainerConfigError', e.message);
      throw e;
    }
    const mounts = [...(extra.mounts ?? []), ...(await this.volumes.mountsOf(spec))];
    const cwd = fromImage ? imageCwd(spec.workingDir, pulled!) : containerCwd(spec.workingDir, base);
    // As a runtime creates a missing workingDir; one inside a volume is the volume's, not the host's.
    if (!imageID && !runtime.pullImage && runtime.usesHostFolders !== false && !underMount(cwd, mounts)) await mkdir(cwd, { recursive: true }).catch(() => {});
    const launch: ContainerLaunch = {
      id: `${this.ns}/${pod.metadata.name}/${spec.name}`,
      argv, env, cwd,
      logFile: containerLogFile(this.deps.dataDir, this.podRef, spec.name, restartCount),
      podUID: this.uid, restartCount,
      ...extra,
      ...(mounts.length && { mounts }),
      ...(this.etcFiles && { etcFiles: this.etcFiles }),
      ...(!runtime.createSandbox && !pod.spec?.hostNetwork && { hostname: this.hostname() }),
    };
    // Stopped while the image or env was being resolved: no process may start after its stop.
    if (slot.cancelled) throw new LaunchError('CreateContainerConfigError', 'container stopped before it started');
    slot.launch = launch;
    slot.adopted = undefined; // a new instance is probed afresh
    slot.launching = runtime.start(launch).then((h) => {
      slot.handle = h;
      slot.running = true;
      const graceMs = (pod.spec?.terminationGracePeriodSeconds ?? 30) * this.deps.graceMsPerSecond;
      if (h.record) pids.add({ podUID: this.uid, container: spec.name, record: h.record, launch, restartCount, graceMs });
      return h;
    });
    const handle = await slot.launching;
    this.event('Normal', 'Started', `Started container ${spec.name}`);
    for (const w of handle.warnings ?? []) this.event('Warning', 'ResourcesNotEnforced', `Container ${spec.name}: ${w}`);
    // The kubelet runs postStart right after the start; the container is not running (nor the next one started)
    // until it completes, and a failed hook kills the container, which then restarts as its policy says.
    const postStart: LifecycleHandler | undefined = spec.lifecycle?.postStart;
    if (postStart) {
      const graceMs = (pod.spec?.terminationGracePeriodSeconds ?? 30) * this.deps.graceMsPerSecond;
      const r = await runHook(postStart, this.hookContext(slot, launch, graceMs));
      if (!r.ok && slot.running) {
        this.deps.log(`pod ${this.key}: ${r.message}`);
        this.event('Warning', 'FailedPostStartHook', 'PostStartHook failed');
        this.event('Normal', 'Killing', 'FailedPostStartHook');
        await handle.stop(graceMs);
      }
    }
    return { containerID: this.containerID(handle) ?? '', imageID, startedAt: isoSeconds(handle.startedAt) };
  }

  private hookContext(slot: Slot, launch: ContainerLaunch, timeoutMs: number) {
    return {
      podIP: this.deps.ips.ipOf(this.uid) ?? '', ports: slot.spec.ports ?? [], runtime: this.deps.runtime, launch,
      timeoutMs, msPerSecond: this.deps.graceMsPerSecond, podNetwork: this.deps.podNetwork,
    };
  }

  /** Kubernetes' termination message: the file at terminationMessagePath, else (FallbackToLogsOnError, a failed
   * run, the file empty) the end of the log; after the runtime's own message, as the kubelet joins them. */
  private async withMessage(slot: Slot, launch: ContainerLaunch | undefined, t: Terminated): Promise<Terminated> {
    const file = launch && terminationLogOf(launch.logFile);
    if (!file) return t;
    const fallback = slot.spec.terminationMessagePolicy === 'FallbackToLogsOnError' && t.exitCode !== 0 && t.reason !== 'ContainerCannotRun';
    // Most process containers write none: an lstat that makes no exception tells so (a failed open and a failed
    // removal were an exception each, with its stack, thousands in a 1,000-pod deletion). lstat: a link the container
    // left there is removed too, not followed.
    const written = (() => { try { return lstatSync(file, { throwIfNoEntry: false }) !== undefined; } catch { return true; } })();
    if (!written && !fallback) return t;
    const text = await terminationMessage(file, launch.logFile, fallback);
    if (written) await rm(file, { force: true }).catch(() => {});
    return text ? { ...t, message: t.message ? `${t.message}: ${text}` : text } : t;
  }

  /** `<runtime>://<id>` for runtimes with ids of their own, else `process://<pid>`. */
  private containerID(h: RunningContainer): string | undefined {
    if (h.containerID) return `${this.deps.runtime.name ?? 'container'}://${h.containerID}`;
    return h.pid ? `process://${h.pid}` : undefined;
  }

  /** Pulls (or finds) the image as its policy says, with the pod's pull secrets; Kubernetes' events and reasons. */
  private async pull(slot: Slot, image: string, spec: { image?: string; imagePullPolicy?: string }, secrets: ReadonlyMap<string, KubeObject>): Promise<ImageInfo> {
    const policy = pullPolicy(spec);
    const { auth, problems } = pullAuth(this.pod, secrets);
    for (const p of problems) this.event('Warning', 'FailedToRetrieveImagePullSecret', p);
    const t0 = Date.now();
    try {
      const info = await this.deps.runtime.pullImage!(image, { policy, ...(auth && { auth }) });
      if (slot.pullFailed || policy === 'Always') {
        this.event('Normal', 'Pulling', `Pulling image ${JSON.stringify(image)}`);
        this.event('Normal', 'Pulled', `Successfully pulled image ${JSON.stringify(image)} in ${((Date.now() - t0) / 1000).toFixed(3)}s`);
      } else {
        this.event('Normal', 'Pulled', `Container image ${JSON.stringify(image)} already present on machine`);
      }
      slot.pullFailed = false;
      return info;
    } catch (e) {
      slot.pullFailed = true;
      const reason = e instanceof ImagePullError ? e.reason : 'ErrImagePull';
      if (reason === 'ErrImagePull') this.event('Normal', 'Pulling', `Pulling image ${JSON.stringify(image)}`);
      this.event('Warning', 'Failed', errMessage(e));
      this.event('Warning', 'Failed', `Error: ${reason}`);
      throw new LaunchError(reason, errMessage(e));
    }
  }

  private async waitExit(slot: Slot): Promise<Terminated> {
    const handle = slot.handle!;
    const launch = slot.launch;
    const exit = await handle.exited;
    slot.running = false;
    this.deps.pids.remove(this.uid, slot.spec.name, handle.record);
    return this.withMessage(slot, launch, terminatedOf(exit, this.containerID(handle)));
  }

  /**
   * Stops the current instance as the kubelet's killContainer does: the preStop hook first (it may take the whole
   * grace period), then SIGTERM, SIGKILL after what is left of graceMs (at least 2 s of it); undefined when none runs.
   */
  private async kill(slot: Slot, graceMs: number): Promise<Terminated | undefined> {
    const handle = await slot.launching?.catch(() => undefined);
    if (!handle || !slot.running) return undefined;
    const launch = slot.launch;
    const preStop: LifecycleHandler | undefined = slot.spec.lifecycle?.preStop;
    if (preStop && graceMs > 0 && launch) {
      const t0 = Date.now();
      const abort = new AbortController();
      const hook = runHook(preStop, { ...this.hookContext(slot, launch, graceMs), signal: abort.signal });
      // The container may exit by itself meanwhile: the hook then has nothing left to wait for.
      const r = await Promise.race([hook, handle.exited.then(() => ({ ok: true }))]);
      abort.abort();
      if (!r.ok) {
        this.deps.log(`pod ${this.key}: ${(r as { message?: string }).message}`);
        this.event('Warning', 'FailedPreStopHook', 'PreStopHook failed');
      }
      graceMs = Math.max(graceMs - (Date.now() - t0), Math.min(graceMs, 2 * this.deps.graceMsPerSecond));
    }
    // Stopping for good: a few containers a turn of the event loop, so that a burst (a deleted Deployment's 1,000
    // pods) spreads its SIGTERMs, and so the exits and status writes that follow them, over many turns.
    if (this.halted) {
      const t0 = Date.now();
      await laterTurn();
      graceMs = Math.max(0, graceMs - (Date.now() - t0));
    }
    this.event('Normal', 'Killing', `Stopping container ${slot.spec.name}`);
    const exit = await handle.stop(graceMs);
    slot.running = false;
    this.deps.pids.remove(this.uid, slot.spec.name, handle.record);
    return this.withMessage(slot, launch, terminatedOf(exit, this.containerID(handle)));
  }

  private startProbes(slot: Slot): void {
    const launch = slot.launch;
    if (!launch) return;
    const check = (probe: Probe) => ({ timeoutMs }: { timeoutMs: number }) =>
      probeOnce(probe, { podIP: this.deps.ips.ipOf(this.uid) ?? '', ports: slot.spec.ports ?? [], runtime: this.deps.runtime, launch, timeoutMs, podNetwork: this.deps.podNetwork });
    const common = {
      msPerSecond: this.deps.probeMsPerSecond, ...(this.deps.clock && { clock: this.deps.clock }),
      // Re-adopted: its initial delays count from its own start, not from this serve's (see Prober).
      ...(slot.adopted && slot.handle && { startedAt: slot.handle.startedAt }),
    };
    const adopted = slot.adopted;
    const name = slot.spec.name;
    // Readiness and liveness wait for the startup probe, as in Kubernetes: a slow starter is not killed meanwhile.
    const others = () => {
      if (slot.spec.readinessProbe) {
        slot.probers.push(new Prober({
          ...common,
          initial: adopted?.ready ?? false, // re-adopted: stays in its Services until a probe fails
          jitter: adopted?.ready === true, // …so its first probe can wait; one not ready yet is probed at once
          probe: slot.spec.readinessProbe,
          check: check(slot.spec.readinessProbe),
          onChange: (ok) => slot.actor.send({ type: 'READY', ready: ok }),
          onResult: (r) => { if (!r.ok) this.event('Warning', 'Unhealthy', `Readiness probe failed: ${r.message ?? ''}`); },
        }));
      }
      if (slot.spec.livenessProbe) {
        slot.probers.push(new Prober({
          ...common,
          probe: slot.spec.livenessProbe,
          initial: true,
          jitter: !!adopted,
          check: check(slot.spec.livenessProbe),
          onChange: (ok, message) => {
            if (ok) return;
            this.event('Normal', 'Killing', `Container ${name} failed liveness probe, will be restarted`);
            slot.actor.send({ type: 'UNHEALTHY', message });
          },
          onResult: (r) => { if (!r.ok) this.event('Warning', 'Unhealthy', `Liveness probe failed: ${r.message ?? ''}`); },
        }));
      }
      for (const p of slot.probers) p.start();
    };
    const startup = slot.spec.startupProbe;
    if (!startup || adopted?.started) return others();
    const prober: Prober = new Prober({
      ...common,
      probe: startup,
      initial: true, // counts failures towards failureThreshold, like liveness
      check: check(startup),
      onChange: (ok, message) => {
        if (ok) return;
        this.event('Normal', 'Killing', `Container ${name} failed startup probe, will be restarted`);
        slot.actor.send({ type: 'UNHEALTHY', message });
      },
      onResult: (r) => {
        if (!r.ok) return this.event('Warning', 'Unhealthy', `Startup probe failed: ${r.message ?? ''}`);
        if (!slot.probers.includes(prober)) return; // already started up
        slot.actor.send({ type: 'STARTED' });
        prober.stop();
        slot.probers.splice(slot.probers.indexOf(prober), 1);
        others();
      },
    });
    slot.probers.push(prober);
    prober.start();
  }

  private stopProbes(slot: Slot): void {
    for (const p of slot.probers.splice(0)) p.stop();
  }

  /** Every container has finished for good (restart policy): the pod is complete. */
  private checkCompleted(): void {
    // The app containers have all finished for good: the sidecars are stopped, then the pod is complete.
    if (!this.halted && !this.sidecarsStopping && this.appsDone() && [...this.slots.values()].some((s) => s.kind === 'sidecar')) {
      this.sidecarsStopping = true;
      void this.stopSidecars(this.graceMs(this.pod)).then(() => this.checkCompleted());
    }
    if (this.allDone()) this.send({ type: 'COMPLETED' });
  }

  private appsDone(): boolean {
    if (this.initFailed) return true;
    const specs: any[] = this.pod.spec?.containers ?? [];
    const apps = [...this.slots.values()].filter((s) => s.kind === 'app');
    return apps.length === specs.length && apps.every((s) => s.actor.getSnapshot().matches('done'));
  }

  private allDone(): boolean {
    if (this.halted || !this.appsDone()) return false;
    return [...this.slots.values()].every((s) => s.kind !== 'sidecar' || s.actor.getSnapshot().status !== 'active');
  }

  // ---- status ----------------------------------------------------------------------------------------------------

  private facts(): PodFacts {
    const ctx = this.actor.getSnapshot().context;
    const list = (specs: any[], found: any[]) => {
    const containers: ContainerFacts[] = [];
    for (const spec of specs) {
      const slot = this.slots.get(spec.name);
      if (slot) {
        const c = slot.actor.getSnapshot().context;
        containers.push({
          name: c.name, state: c.state, lastState: c.lastState, ready: c.ready && !this.nodeStopped && !this.halted,
          started: c.started, restartCount: c.restartCount, containerID: c.containerID, imageID: c.imageID,
        });
      } else if (this.adopted.has(spec.name) && found.find((s) => s.name === spec.name)?.state?.running) {
        // Re-adopted, its slot not made yet (the pod's sandbox and volumes come first): it runs on as it was, and
        // stays Ready, so the pod does not leave its Services for the moment a restarted node takes to get here.
        const o = found.find((s) => s.name === spec.name);
        containers.push({
          name: spec.name, state: o.state, lastState: o.lastState ?? {}, ready: o.ready === true && !this.nodeStopped && !this.halted,
          started: o.started ?? true, restartCount: o.restartCount ?? 0, containerID: o.containerID, imageID: o.imageID,
        });
      } else {
        // Not started yet: what the previous status said carries on (a node restart keeps restartCount).
        const o = found.find((s) => s.name === spec.name);
        if (o) containers.push({ name: spec.name, state: { waiting: { reason: this.pod.spec?.initContainers?.length ? 'PodInitializing' : 'ContainerCreating' } }, lastState: o.lastState ?? {}, ready: false, started: false, restartCount: o.restartCount ?? 0, imageID: o.imageID });
      }
    }
    return containers;
    };
    return {
      hostIP: this.deps.hostIP, podIP: ctx.podIP, startTime: ctx.startTime, terminal: this.terminal,
      containers: list(this.pod.spec?.containers ?? [], this.found),
      initContainers: list(this.pod.spec?.initContainers ?? [], this.foundInit),
    };
  }

  /** A container exited since the last write: no settling (exitSeen). */
  private urgent = false;
  private wake: (() => void) | undefined;

  private scheduleStatus(): void {
    this.dirty = true;
    this.writing ??= this.writeLoop();
  }

  /** Runs a step, which status writes wait for a moment (statusSettleMs). */
  private step<T>(work: Promise<T>): Promise<T> {
    this.stepping.add(work);
    const done = () => { this.stepping.delete(work); };
    work.then(done, done);
    return work;
  }

  private async writeLoop(): Promise<void> {
    // Writes one after another; changes that arrive during a write are folded into the next.
    while (this.dirty) {
      await new Promise((r) => setImmediate(r)); // let a burst of transitions settle into one write
      if (this.stepping.size && !this.urgent) await this.settle();
      this.urgent = false;
      this.dirty = false;
      try {
        await this.writeStatus();
      } catch (e) {
        // NotFound: removed between the read and the write, which is no failure.
        if (!(e instanceof StoreError && e.reason === 'NotFound')) this.deps.log(`pod ${this.key}: status write failed: ${errMessage(e)}`);
      }
    }
    this.writing = undefined;
  }

  /** Waits for the steps under way, and those they lead to (preparing, then launching), at most statusSettleMs. */
  private async settle(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    let over = false;
    const cap = new Promise<void>((r) => { timer = setTimeout(() => { over = true; r(); }, this.deps.statusSettleMs ?? STATUS_SETTLE_MS); });
    const woken = new Promise<void>((r) => { this.wake = r; });
    while (this.stepping.size && !over && !this.urgent) await Promise.race([Promise.allSettled([...this.stepping]), cap, woken]);
    this.wake = undefined;
    clearTimeout(timer);
  }

  /** A container exited: the status write waits for no step. */
  private exitSeen(): void {
    this.urgent = true;
    this.wake?.();
  }

  /** Resolves once every status change so far is written. */
  async flushStatus(): Promise<void> {
    this.scheduleStatus();
    while (this.writing) await this.writing;
  }

  private async writeStatus(): Promise<void> {
    if (this.removed || this.foundTerminal || this.frozen) return;
    const { store, now } = this.deps;
    // Shared: only read (podStatus builds a new status), and written once per pod change on every node.
    const cur = await store.get('Pod', this.ns, this.pod.metadata.name, { shared: true });
    if (!cur || cur.metadata.uid !== this.uid) return;
    const evicted = this.evictedMessage;
    // Evicted: Failed from the start of the kill, so readiness reads PodCompleted as for any finished pod.
    const base = evicted === undefined ? cur : { ...cur, status: { ...cur.status, phase: 'Failed' } };
    // The store copies the status and writes nothing when it is the same.
    await store.updateStatus('Pod', this.ns, cur.metadata.name, { ...podStatus(base, this.facts(), isoSeconds(now())), ...(evicted !== undefined && { reason: EVICTED, message: evicted }) }, { shared: true });
  }
}
