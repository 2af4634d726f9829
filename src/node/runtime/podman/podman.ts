// The podman runtime: each pod a podman pod (its own network namespace and address on a bridge per node), each
// container a podman container started detached under conmon, which writes its stdout/stderr into the container's
// log file (log driver k8s-file: CRI lines with their time), its exit seen on one events stream. Driven through
// libpod's REST API, served by a `podman system service` this runtime owns (api.ts); the CLI only for pulls, exec and
// image GC: see docs/engine.md for why. Containers and pods outlive convergit (conmon is their parent, not us): the next
// start re-adopts each from its record, checked against the labels it was started with.
import { collectExecOutput } from '../exec-output.ts';
import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { appendFileSync, constants as fsConstants, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, constants, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  ImagePullError, type ContainerExit, type ContainerLaunch, type ExecResult, type ImageInfo, type Mount, type PullOptions,
  type ContainerRecord, type ContainerUsageSample, type RunningContainer, type Runtime, type SandboxSpec,
} from '../runtime.ts';
import { apiError, PodmanApi, seg, type ApiResult } from './api.ts';
import { podman, podmanError, type PodmanCli } from './cli.ts';
import { writeContainersConf, writeRegistriesConf, type RegistryMirror } from './config.ts';
import { ExitWatcher } from './exits.ts';
import { cgroupFiles, cgroupUsage, type CgroupFiles } from './cgroup-usage.ts';
import { collectImages, DEFAULT_IMAGE_GC, ImageUsage, type ImageGCOptions, type ImageGCResult } from './image-gc.ts';
import { hostRoot } from './host-root.ts';
import { fullImageRef, parseImageRef, repositoryOf } from './image-ref.ts';
import { oomKilledInKernelLog } from './oom.ts';
import { isRootless, rootlessLimitsIgnored } from './rootless.ts';
import { RootlessNetns } from './rootless-netns.ts';
import { podMac } from './pod-mac.ts';
import { DATA_DIR_LABEL, subnetHolders, subnetOf, whyStale, type NetworkOwners, type PodmanNetwork } from './stale-networks.ts';
import { startSpawner } from '../process-spawner.ts';
import { formatResolvConf } from '../../../model/resolv-conf.ts';
import {
  createPodNamespaces, ensureBridge, hasPodNamespaces, joinPodNamespaces, podNamespacesAvailable, podNamespacesNamed, removeBridge, removePodNamespaces,
} from './pod-namespaces.ts';
import { timerDelayMs } from '../../timer-delay.ts';

const LABEL = 'convergit.instance';
/** Who a container is: its pod, its name in the pod, its run (restartCount). Checked before a re-adoption. */
const POD_UID = 'convergit.pod-uid';
const CONTAINER = 'convergit.container';
const RESTART_COUNT = 'convergit.restart-count';

/** What pids.json keeps of a podman container: enough to find it and to tell it from any other. */
type PodmanRecord = { runtime: 'podman'; id: string; name: string; podUID?: string; container?: string; restartCount?: number; startedAt?: number };

/** A record this runtime wrote (pids.json may hold the process runtime's too, after a change of --runtime). */
export const isPodmanRecord = (r: ContainerRecord): boolean => r.runtime === 'podman' && typeof r.id === 'string';

export interface PodmanRuntimeOptions {
  /** convergit's podman files: containers.conf, the host rootfs, short-lived auth files. */
  stateDir: string;
  /** Tells this convergit's containers, pods and networks from others' on the machine (default: a hash of stateDir). */
  instance?: string;
  bin?: string;
  /** pids limit of each container (`--pod-pids-limit`); undefined: none. */
  pidsLimit?: number;
  /** Registries pulled from over plain HTTP (besides localhost and 127.0.0.0/8, which always are, as in Docker). */
  insecureRegistries?: string[];
  /** Image garbage collection (the kubelet's thresholds); default the kubelet's defaults. */
  imageGC?: ImageGCOptions;
  /** Registry mirrors (`--registry-mirror`), written into a registries.conf podman is pointed at; none: podman's own. */
  registryMirrors?: RegistryMirror[];
  /** Container starts (create and start) in flight at once; default `defaultStartParallelism()`. */
  startParallelism?: number;
  /** The data folder served: its networks carry it (DATA_DIR_LABEL), so that another instance can tell a stale one;
   * default the folder holding stateDir (serve's `<data>/podman`). */
  dataDir?: string;
  /** Who holds other instances' networks (stale-networks.ts); default: a network's labelled folder, which holds it while it exists. */
  networkOwners?: NetworkOwners;
  /** What the runtime did on its own that a user should hear of (stale networks removed). */
  log?: (message: string) => void;
}

/** The instance of a state folder: its containers', pods' and networks' LABEL. */
export const instanceOf = (stateDir: string): string => createHash('sha256').update(stateDir).digest('hex').slice(0, 8);

/** The network of a node's pod CIDR. */
const nodeNetwork = (instance: string, podCIDR: string) => `convergit-${instance}-${podCIDR.replace(/[./]/g, '-')}`;

/** A libpod network removal's failure: an error status, or a report with an error in it. */
const networkRmError = (r: ApiResult): string | undefined =>
  r.status !== 200 ? apiError(r) : (Array.isArray(r.body) ? r.body.map((x: { Err?: unknown }) => x?.Err).find((e) => e) as string | undefined : undefined);

/**
 * Twice the cores, at least 2. A start is CPU work in short-lived processes (conmon, runc create/init/start, and for a
 * pod's first container netavark with its iptables calls), and podman serialises part of it anyway (its network
 * lock around netavark, its database's one writer, iptables' lock): past a couple of starts per core the rest only
 * queue inside podman, every pod started at once finishes late together, and the machine thrashes. Bounded, pods
 * finish one after another (the first ones in a second or two) for about the same total.
 */
export const defaultStartParallelism = (): number => Math.max(2, 2 * availableParallelism());

/** A counting semaphore, first come first served. */
class Slots {
  private free: number;
  private readonly waiting: (() => void)[] = [];
  constructor(n: number) { this.free = n; }
  async run<T>(f: () => Promise<T>): Promise<T> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((r) => this.waiting.push(r));
    try {
      return await f();
    } finally {
      const next = this.waiting.shift();
      if (next) next();
      else this.free++;
    }
  }
}

const sanitize = (s: string) => s.replace(/[^a-zA-Z0-9_.-]/g, '_');

/** As containerd does for Kubernetes: ports below 1024 need no privilege inside a pod's own namespace. */
const UNPRIVILEGED_PORTS = { 'net.ipv4.ip_unprivileged_port_start': '0' };

/** Names the masquerade rule convergit adds for a bridge of its pods in namespaces of its own. */
const masqueradeComment = (network: string) => `convergit:${network}`;

export class PodmanRuntime implements Runtime {
  readonly name = 'podman';
  readonly instance: string;
  /** Not root: podman runs rootless, its pods' bridges in its rootless network namespace (rootless-netns.ts). */
  readonly rootless = isRootless();
  private readonly cli: PodmanCli;
  /** @internal The podman service: every call on the way of a pod's start and stop. */
  readonly api: PodmanApi;
  private readonly exits: ExitWatcher;
  private rootMounts?: Promise<Mount[]>;
  private readonly networks = new Map<string, Promise<string>>();
  /** podCIDR → its bridge, made ready for pods in namespaces of their own (pod-namespaces.ts). */
  private readonly bridges = new Map<string, Promise<string>>();
  /** Sandboxes whose namespaces convergit made (pod-namespaces.ts) → what each container of theirs is given to join them. */
  private readonly netnsPods = new Map<string, Record<string, unknown>>();
  private readonly pulls = new Map<string, Promise<ImageInfo>>();
  /** Images found present (ref → what inspect said), so IfNotPresent and Never start without a podman call each;
   * forgotten when a start of one fails and after an image GC pass that removed any. */
  private readonly present = new Map<string, ImageInfo>();
  /** launch id → the name of its running container, for exec. */
  private readonly current = new Map<string, string>();
  /** Names of the containers this runtime started or re-adopted: any other in a pod it takes back is a stray. */
  private readonly known = new Set<string>();
  /** Pod uids with a container re-adopted by this runtime: their sandboxes are taken back, not made anew. */
  private readonly adoptedPods = new Set<string>();
  /** Container id → its cgroup's files, for usage. */
  private readonly cgroups = new Map<string, CgroupFiles>();
  /** When each image this instance pulled was last used, for image GC. */
  private readonly imageUsage: ImageUsage;
  private gcTimer?: NodeJS.Timeout;
  private gcRunning?: Promise<ImageGCResult>;
  /** Container starts in flight (see defaultStartParallelism). */
  private readonly startSlots: Slots;
  /** Sandboxes in the making, bounded as starts are: 100 made at once all finished together, late (the kernel's
   * network changes are serialised anyway), and held every pod's first container back. */
  private readonly sandboxSlots: Slots;

  private constructor(private readonly opts: PodmanRuntimeOptions, conf: string, registries?: string) {
    this.instance = opts.instance ?? instanceOf(opts.stateDir);
    const env = { ...process.env, CONTAINERS_CONF: conf, ...(registries && { CONTAINERS_REGISTRIES_CONF: registries }) };
    this.cli = { bin: opts.bin ?? 'podman', env, cwd: opts.stateDir };
    // A unix socket's path is at most 107 bytes: a deep data folder's goes under the temporary folder instead.
    const inState = join(opts.stateDir, 'podman.sock');
    const socket = inState.length < 100 ? inState : join(tmpdir(), `convergit-podman-${createHash('sha256').update(opts.stateDir).digest('hex').slice(0, 16)}.sock`);
    this.api = new PodmanApi({ ...this.cli, socket, pidFile: join(opts.stateDir, 'podman-service.pid') });
    this.exits = new ExitWatcher(this.api, `${LABEL}=${this.instance}`);
    this.imageUsage = new ImageUsage(join(opts.stateDir, 'images.json'));
    this.startSlots = new Slots(opts.startParallelism ?? defaultStartParallelism());
    this.sandboxSlots = new Slots(opts.startParallelism ?? defaultStartParallelism());
  }

  /** Writes containers.conf (and registries.conf for mirrors). What an earlier run left running stays: the node re-adopts it (see `adopt`). */
  static async create(opts: PodmanRuntimeOptions): Promise<PodmanRuntime> {
    const conf = await writeContainersConf(opts.stateDir);
    const registries = await writeRegistriesConf(opts.stateDir, opts.registryMirrors);
    const runtime = new PodmanRuntime(opts, conf, registries);
    runtime.api.warm(); // the service starts while the caller goes on
    // The helper that runs the pods' namespace commands, forked now, while serve is small (see pod-namespaces.ts).
    if (!runtime.rootless && podNamespacesAvailable()) startSpawner();
    return runtime;
  }

  private get hostRootDir(): string {
    return join(this.opts.stateDir, 'host-root');
  }

  /**
   * Removes every container, pod, pod namespace and network (with its bridge) of this instance, running or not
   * (`convergit stop`, after the graceful stops), in that order: a network is refused while a pod uses it. Returns
   * what podman refused to remove, each with its answer.
   */
  async removeAll(): Promise<string[]> {
    await this.conmonsGone(); // of containers stopped just before (`convergit stop`): in their pods' cgroups
    const filters = { label: [`${LABEL}=${this.instance}`] };
    const refused: string[] = [];
    // libpod lists containers and pods with `Id`, networks with `name` (the keys of its own Go types' JSON).
    const list = async (path: string) => {
      const r = await this.api.call('GET', path, { query: { all: true, filters } });
      if (r.status !== 200 || !Array.isArray(r.body)) refused.push(`listing ${path}: ${apiError(r)}`);
      return r.status === 200 && Array.isArray(r.body) ? r.body as Record<string, unknown>[] : [];
    };
    const ids = async (path: string, key: 'Id' | 'name') => (await list(path)).map((x) => x[key]).filter((x): x is string => typeof x === 'string');
    const remove = (what: string, path: string) => this.api.call('DELETE', path, { query: { force: true, timeout: 0 } }).then((r) => {
      if (r.status >= 300 && r.status !== 404) refused.push(`${what}: ${apiError(r)}`);
    });
    // Not a pod's infra container: podman removes it only with its pod (and refuses it alone).
    const containers = (await list('/containers/json')).filter((c) => !c.IsInfra).map((c) => String(c.Id));
    await Promise.all(containers.map((id) => remove(`container ${id.slice(0, 12)}`, `/containers/${id}`)));
    await Promise.all((await ids('/pods/json', 'Id')).map((id) => remove(`pod ${id.slice(0, 12)}`, `/pods/${id}`)));
    await Promise.all(podNamespacesNamed(this.sandboxPrefix).map((n) => removePodNamespaces(n).catch((e) => { refused.push(`the namespaces of ${n}: ${(e as Error).message}`); })));
    for (const n of await ids('/networks/json', 'name')) {
      const e = await this.removeNetwork(n);
      if (e) refused.push(`network ${n}: ${e}`);
    }
    return refused;
  }

  /** Every sandbox's name starts with it (and so does the name of the network namespace convergit made for it). */
  private get sandboxPrefix(): string {
    return `convergit-${this.instance}-`;
  }

  /**
   * Removes a bridge network (refused while a podman pod uses it), and what convergit added to its bridge (podman
   * leaves a bridge it did not make, and knows nothing of the masquerade rule). Returns podman's refusal, if any.
   */
  private async removeNetwork(name: string): Promise<string | undefined> {
    const info = await this.api.call('GET', `/networks/${seg(name)}/json`);
    if (info.status === 404) return undefined; // gone already
    const r = await this.api.call('DELETE', `/networks/${seg(name)}`);
    const refused = r.status === 404 ? undefined : networkRmError(r);
    if (refused) return refused;
    const bridge = info.body?.network_interface, subnet = subnetOf(info.body ?? {});
    if (typeof bridge === 'string' && subnet && podNamespacesAvailable() && !this.rootless) await removeBridge(bridge, subnet, masqueradeComment(name));
    return undefined;
  }

  /**
   * Stops watching exits (containers keep running under conmon), waits for removed containers' conmons, removes the
   * bridges no pod uses any more and stops the podman service.
   */
  async close(): Promise<void> {
    this.exits.close();
    await this.conmonsGone();
    clearInterval(this.gcTimer);
    this.imageUsage.flush();
    // Not while pods in namespaces of convergit's own run on (they coast): podman does not know they use the bridge.
    const coasting = podNamespacesNamed(this.sandboxPrefix).length > 0;
    for (const p of this.networks.values()) {
      const name = await p.catch(() => undefined);
      if (name && !coasting) await this.removeNetwork(name).catch(() => {}); // refused while a pod still uses it
    }
    this.networks.clear();
    this.bridges.clear();
    await this.api.close();
  }

  // ---- rootless --------------------------------------------------------------------------------------------------

  /** Rootless: why podman's rootless network namespace cannot be made, or undefined when it can. */
  async checkRootlessNetwork(): Promise<string | undefined> {
    const r = await podman(this.cli, ['unshare', '--rootless-netns', 'true'], { timeoutMs: 60_000 });
    return r.code === 0 ? undefined : podmanError(r);
  }

  /** Rootless: the helper that makes serve's sockets on the pods' side (started; its anchor pod running). */
  async rootlessNetwork(log: (m: string) => void): Promise<RootlessNetns> {
    const n = new RootlessNetns(this.cli, this.instance, Object.entries(this.networkLabels).map(([k, v]) => `${k}=${v}`), log);
    await n.start();
    return n;
  }

  // ---- images ----------------------------------------------------------------------------------------------------

  pullImage(image: string, opts: PullOptions): Promise<ImageInfo> {
    // One pull per image and credentials at a time: two pods of one Deployment share it.
    const key = `${image}\0${opts.policy}\0${JSON.stringify(opts.auth ?? null)}`;
    let p = this.pulls.get(key);
    if (!p) {
      p = this.pull(image, opts).finally(() => this.pulls.delete(key));
      this.pulls.set(key, p);
    }
    return p;
  }

  private async pull(image: string, opts: PullOptions): Promise<ImageInfo> {
    let ref: string;
    try {
      ref = fullImageRef(image);
    } catch (e) {
      throw new ImagePullError('ErrImagePull', `Failed to pull image ${JSON.stringify(image)}: ${(e as Error).message}`);
    }
    const present = (opts.policy !== 'Always' && this.present.get(ref)) || await this.inspectImage(ref);
    if (present) this.present.set(ref, present);
    if (opts.policy === 'Never') {
      if (present) return present;
      throw new ImagePullError('ErrImageNeverPull', `Container image ${JSON.stringify(image)} is not present with pull policy of Never`);
    }
    if (present && opts.policy === 'IfNotPresent') return present;
    const args = ['pull', '--quiet'];
    const { registry } = parseImageRef(image);
    if (this.insecure(registry)) args.push('--tls-verify=false');
    let authFile: string | undefined;
    if (opts.auth) {
      authFile = join(this.opts.stateDir, `auth-${randomUUID()}.json`);
      await writeFile(authFile, JSON.stringify(opts.auth), { mode: 0o600 });
      args.push('--authfile', authFile);
    }
    try {
      const r = await podman(this.cli, [...args, ref]);
      if (r.code !== 0) throw new ImagePullError('ErrImagePull', `Failed to pull image ${JSON.stringify(image)}: ${podmanError(r)}`);
    } finally {
      if (authFile) await rm(authFile, { force: true });
    }
    const info = await this.inspectImage(ref);
    if (!info) throw new ImagePullError('ErrImagePull', `Failed to pull image ${JSON.stringify(image)}: pulled, but not found afterwards`);
    this.present.set(ref, info);
    this.imageUsage.touch(info.id); // pulled by us: ours to collect once unused
    return info;
  }

  private insecure(registry: string): boolean {
    const host = registry.replace(/:\d+$/, '');
    return host === 'localhost' || /^127\./.test(host) || (this.opts.insecureRegistries ?? []).includes(registry);
  }

  private async inspectImage(ref: string): Promise<ImageInfo | undefined> {
    const r = await this.api.call('GET', `/images/${seg(ref)}/json`);
    if (r.status !== 200) return undefined;
    const img = r.body as { Id: string; RepoDigests?: string[]; Config?: { Entrypoint?: string[]; Cmd?: string[]; WorkingDir?: string } } | undefined;
    if (!img) return undefined;
    const repo = repositoryOf(ref);
    const digests = img.RepoDigests ?? [];
    return {
      id: img.Id,
      imageID: digests.find((d) => d.startsWith(`${repo}@`)) ?? digests[0] ?? `sha256:${img.Id}`,
      entrypoint: img.Config?.Entrypoint ?? [],
      cmd: img.Config?.Cmd ?? [],
      workingDir: img.Config?.WorkingDir ?? '',
    };
  }

  // ---- sandboxes -------------------------------------------------------------------------------------------------

  /** What this instance's networks are labelled with: the instance and the data folder. */
  private get networkLabels(): Record<string, string> {
    return { [LABEL]: this.instance, [DATA_DIR_LABEL]: this.opts.dataDir ?? dirname(this.opts.stateDir) };
  }

  private async listNetworks(): Promise<PodmanNetwork[]> {
    const r = await this.api.call('GET', '/networks/json');
    return r.status === 200 && Array.isArray(r.body) ? r.body as PodmanNetwork[] : [];
  }

  /** Removes other instances' stale networks (stale-networks.ts) before `wanted` is made: one on it would stop it. */
  private async removeStaleNetworks(wanted: string): Promise<void> {
    const owners = this.opts.networkOwners ?? { folderOf: () => undefined, holds: () => true };
    for (const n of await this.listNetworks()) {
      const why = whyStale(n, { instanceLabel: LABEL, self: this.instance, wanted, owners, nodeNetwork });
      if (!why) continue;
      const refused = await this.removeNetwork(n.name);
      this.opts.log?.(refused ? `podman: the network ${n.name} (${subnetOf(n)}) is stale (${why}), but podman refused to remove it: ${refused}`
        : `podman: removed the stale network ${n.name} (${subnetOf(n)}): ${why}`);
    }
  }

  /** The bridge of a node's pod CIDR, created once (its gateway is the CIDR's first address). */
  private network(podCIDR: string): Promise<string> {
    let p = this.networks.get(podCIDR);
    if (!p) {
      p = (async () => {
        const name = nodeNetwork(this.instance, podCIDR);
        const exists = async () => (await this.api.call('GET', `/networks/${seg(name)}/exists`)).status === 204;
        if (await exists()) return name;
        await this.removeStaleNetworks(podCIDR);
        const r = await this.api.call('POST', '/networks/create', {
          body: { name, driver: 'bridge', subnets: [{ subnet: podCIDR }], dns_enabled: false, labels: this.networkLabels },
        });
        if (r.status !== 200 && !(await exists())) {
          const why = apiError(r);
          throw new Error(`creating the bridge for ${podCIDR}: ${why}${/already used/.test(why) ? `: ${subnetHolders(await this.listNetworks(), podCIDR, LABEL)}` : ''}`);
        }
        return name;
      })();
      p.catch(() => this.networks.delete(podCIDR));
      this.networks.set(podCIDR, p);
    }
    return p;
  }

  /** The bridge of podman's network for `podCIDR`, ready for pods in namespaces of convergit's own. */
  private bridge(podCIDR: string): Promise<string> {
    let p = this.bridges.get(podCIDR);
    if (!p) {
      p = (async () => {
        const network = await this.network(podCIDR);
        const r = await this.api.call('GET', `/networks/${seg(network)}/json`);
        const bridge = r.body?.network_interface;
        if (r.status !== 200 || typeof bridge !== 'string') throw new Error(`the bridge of ${network}: ${apiError(r)}`);
        await ensureBridge(bridge, podCIDR, masqueradeComment(network));
        return bridge;
      })();
      p.catch(() => this.bridges.delete(podCIDR));
      this.bridges.set(podCIDR, p);
    }
    return p;
  }

  /**
   * A pod gets network and IPC namespaces of convergit's own (pod-namespaces.ts) where podman would give it an infra
   * container and CNI: rootful, its own network, no hostPort (those stay podman's: its portmap; rootless podman too,
   * as the namespaces need root). Its podman pod is then a group without infra: its containers join the namespaces,
   * and each is given the pod's hostname and resolv.conf.
   */
  private ownNetns(spec: SandboxSpec): boolean {
    return !this.rootless && !spec.hostNetwork && spec.hostPorts.length === 0 && podNamespacesAvailable();
  }

  async createSandbox(spec: SandboxSpec): Promise<string> {
    const name = `${this.sandboxPrefix}${sanitize(spec.id.replace('/', '_'))}-${spec.uid.slice(0, 8)}`;
    const labels = { [LABEL]: this.instance, [POD_UID]: spec.uid };
    if (this.ownNetns(spec)) {
      // A pod with an infra container, of a convergit before namespaces of its own, is taken back as it is.
      if (this.adoptedPods.has(spec.uid) && !hasPodNamespaces(name) && (await this.takeBackSandbox(name, spec.uid))) return name;
      // What podman's pod create would have given the pod, given to each container (as the kubelet's /etc/hosts
      // names the pod, then its hostAliases).
      const join = joinPodNamespaces(name);
      const dns = await this.dnsSpec(name, spec);
      const hostadd = [...(spec.hostname ? [`${spec.hostname}:${spec.ip}`] : []), ...hostAliasEntries(spec)];
      this.netnsPods.set(name, {
        ...join, sysctl: UNPRIVILEGED_PORTS,
        ...(spec.hostname && { hostname: spec.hostname }),
        ...(hostadd.length && { hostadd }),
        ...dns, mounts: [...join.mounts, ...(dns.mounts as unknown[] ?? [])],
      });
      if (this.adoptedPods.has(spec.uid) && (await this.takeBackSandbox(name, spec.uid))) return name;
      const bridge = await this.bridge(spec.podCIDR);
      await this.sandboxSlots.run(() => Promise.all([createPodNamespaces(name, spec.ip, spec.podCIDR, bridge), this.createPod(name, { name, labels, no_infra: true })]));
      return name;
    }
    // Only a pod with re-adopted containers is taken back; any other old sandbox of it is replaced (with what is in it).
    if (this.adoptedPods.has(spec.uid) && (await this.takeBackSandbox(name, spec.uid))) return name;
    // The libpod PodSpecGenerator `podman pod create` fills in from its flags.
    const body: Record<string, unknown> = { name, labels };
    if (spec.hostname) body.hostname = spec.hostname;
    // podman adds them to the /etc/hosts it writes for the pod's containers (`podman pod create --add-host`).
    if (spec.hostAliases) body.hostadd = hostAliasEntries(spec);
    Object.assign(body, await this.dnsSpec(name, spec));
    if (spec.hostNetwork) {
      body.netns = { nsmode: 'host' };
    } else {
      body.netns = { nsmode: 'bridge' };
      const mac = podMac(spec.ip);
      body.Networks = { [await this.network(spec.podCIDR)]: { static_ips: [spec.ip], ...(mac && { static_mac: mac }) } };
      body.sysctl = UNPRIVILEGED_PORTS;
      body.portmappings = spec.hostPorts.map((p) => ({
        ...(p.hostIP && { host_ip: p.hostIP }), host_port: p.hostPort, container_port: p.containerPort, protocol: p.protocol.toLowerCase(),
      }));
    }
    // Not started here: the first container's start starts its infra (one call less per pod); nothing can answer on
    // the pod's address before a container runs anyway.
    await this.createPod(name, body);
    return name;
  }

  private async createPod(name: string, body: Record<string, unknown>): Promise<void> {
    let r = await this.api.call('POST', '/pods/create', { body });
    if (r.status === 409) {
      // `--replace`, only when needed: an older sandbox of that name (a pod of a serve killed before it recorded the
      // pod) goes first, with what it holds.
      await this.api.call('DELETE', `/pods/${seg(name)}`, { query: { force: true, timeout: 0 } });
      r = await this.api.call('POST', '/pods/create', { body });
    }
    if (r.status !== 201 && r.status !== 200) throw new Error(apiError(r));
  }

  /**
   * The pod's resolv.conf as podman writes it for the pod's containers. On the host's network podman ignores
   * dns_server, and without a nameserver (dnsPolicy None with searches only) it would fill in the host's, so there the
   * file is written here and mounted for the whole pod (ClusterFirstWithHostNet, None).
   */
  private async dnsSpec(name: string, spec: SandboxSpec): Promise<Record<string, unknown>> {
    if (!spec.dns) return {};
    const { nameservers, searches, options } = spec.dns;
    if (spec.hostNetwork || !nameservers.length) {
      const file = this.resolvConfFile(name);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, formatResolvConf(spec.dns));
      return { mounts: [{ destination: '/etc/resolv.conf', source: file, type: 'bind', options: ['rbind', 'ro'] }] };
    }
    return {
      dns_server: nameservers,
      // No search path: `.` (podman would otherwise fill in the host's).
      dns_search: searches.length ? searches : ['.'],
      ...(options.length && { dns_option: options }),
    };
  }

  private resolvConfFile(sandbox: string): string {
    return join(this.opts.stateDir, 'resolv', `${sandbox}.conf`);
  }

  /**
   * The pod's sandbox still runs from a previous convergit (its containers re-adopted): it is kept, with its address,
   * and any container in it that was not re-adopted (started by a convergit killed before it could record it) goes.
   * False when there is none to take back, or it is not this pod's, or its network holder (infra) has died.
   */
  private async takeBackSandbox(name: string, uid: string): Promise<boolean> {
    const r = await this.api.call('GET', '/containers/json', { query: { all: true, filters: { pod: [name] } } });
    if (r.status !== 200 || !Array.isArray(r.body)) return false;
    const ctrs = r.body as { Id: string; Names: string[]; IsInfra?: boolean; State: string; Labels?: Record<string, string> }[];
    if (this.netnsPods.has(name)) {
      // Its namespaces are still there, and it holds a container re-adopted as this pod's (so the pod is this one).
      if (!hasPodNamespaces(name) || !ctrs.some((c) => c.Names.some((n) => this.known.has(n)) && c.Labels?.[POD_UID] === uid)) return false;
    } else {
      const infra = ctrs.find((c) => c.IsInfra);
      if (!infra || infra.State !== 'running' || infra.Labels?.[LABEL] !== this.instance || infra.Labels?.[POD_UID] !== uid) return false;
    }
    const strays = ctrs.filter((c) => !c.IsInfra && !c.Names.some((n) => this.known.has(n))).map((c) => c.Id);
    await Promise.all(strays.map((id) => this.api.call('DELETE', `/containers/${id}`, { query: { force: true, timeout: 0 } })));
    return true;
  }

  async sandboxReady(sandbox: string): Promise<boolean> {
    if (this.netnsPods.has(sandbox)) return hasPodNamespaces(sandbox) && (await this.api.call('GET', `/pods/${seg(sandbox)}/exists`)).status === 204;
    const r = await this.api.call('GET', '/containers/json', { query: { filters: { pod: [sandbox], status: ['running'] } } });
    return r.status === 200 && Array.isArray(r.body) && r.body.some((c: { IsInfra?: boolean }) => c.IsInfra);
  }

  async removeSandbox(sandbox: string): Promise<void> {
    await this.conmonsGone(sandbox); // in the pod's cgroup: it goes with the pod
    await this.api.call('DELETE', `/pods/${seg(sandbox)}`, { query: { force: true, timeout: 0 } });
    await rm(this.resolvConfFile(sandbox), { force: true });
    this.netnsPods.delete(sandbox);
    await removePodNamespaces(sandbox);
  }

  // ---- containers ------------------------------------------------------------------------------------------------

  async start(launch: ContainerLaunch): Promise<RunningContainer> {
    // A container's few small file operations synchronous: each through the thread pool cost serve ~0.2 ms of CPU
    // (a promise, a thread's wake-up) against microseconds done here, for every container of a burst.
    mkdirSync(dirname(launch.logFile), { recursive: true });
    const startedAt = new Date();
    if (!launch.argv.length || !launch.argv[0]) return failedContainer(startedAt, 127, 'no command specified');
    const name = `convergit-${this.instance}-${sanitize(launch.id.replaceAll('/', '_'))}-${randomBytes(3).toString('hex')}`;
    const spec = await this.runSpec(name, launch);
    if (launch.image && this.imageUsage.has(launch.image)) this.imageUsage.touch(launch.image, Date.now(), { soon: true });
    mkdirSync(join(this.opts.stateDir, 'conmon'), { recursive: true });
    appendFileSync(launch.logFile, ''); // there from the start, even before conmon's first line
    // `podman run -d`: a create, then a start (which starts the pod's infra first when it is not running yet), a
    // bounded number at a time.
    const { created, r } = await this.startSlots.run(async () => {
      const created = await this.api.call('POST', '/containers/create', { body: spec });
      const r = created.status === 201 || created.status === 200 ? await this.api.call('POST', `/containers/${seg(name)}/start`) : created;
      return { created, r };
    });
    if (r.status !== 204 && r.status !== 304) {
      if (r !== created) void this.api.call('DELETE', `/containers/${seg(name)}`, { query: { force: true, timeout: 0 } }).catch(() => {});
      if (launch.image) for (const [ref, info] of this.present) if (info.id === launch.image) this.present.delete(ref); // removed meanwhile?
      // The CLI's exit codes: 127 a command not found, 126 one that cannot be run, 125 any other failure.
      const message = startError(apiError(r), launch.cwd);
      return failedContainer(startedAt, /not found|no such file/.test(message) ? 127 : /permission denied/.test(message) ? 126 : 125, message);
    }
    // The create answers the id: no inspect (one call less per container). A container that has already died is
    // told by the exit watcher, which remembers recent deaths of containers not watched yet.
    const id = typeof created.body?.Id === 'string' ? created.body.Id as string : name;
    // conmon, which watches the container (the container's own pid would need an inspect; usage looks it up).
    const conmonPid = this.conmonPid(name);
    const record: PodmanRecord = {
      runtime: 'podman', id, name, startedAt: startedAt.getTime(),
      ...(launch.podUID !== undefined && { podUID: launch.podUID, container: containerName(launch), restartCount: launch.restartCount ?? 0 }),
    };
    const c = new PodmanContainer(this, name, id, conmonPid, startedAt, record, launch.sandbox, this.ignoredLimits(launch));
    return this.track(launch, c, true);
  }

  /** Watches its exit (it may have died before the watch began: then it is seen at once) and makes it exec-able. */
  private track(launch: ContainerLaunch, c: PodmanContainer, running: boolean): PodmanContainer {
    const { name } = c;
    this.known.add(name);
    this.current.set(launch.id, name);
    void c.exited.then(() => {
      this.known.delete(name);
      if (this.current.get(launch.id) === name) this.current.delete(launch.id);
    });
    this.exits.watch(name, () => void c.finish());
    if (!running) this.exits.died(name);
    return c;
  }

  /**
   * A container a previous convergit started, found by its id and taken back only when its labels name the same
   * instance, pod, container and run as its record: a container of someone else is never touched. Running: it runs on,
   * watched as if started now. Dead meanwhile: podman kept it, so its real exit is reported (and it is then removed).
   */
  async adopt(record: ContainerRecord, launch: ContainerLaunch): Promise<RunningContainer | undefined> {
    if (!isPodmanRecord(record)) return undefined;
    const rec = record as unknown as PodmanRecord;
    const info = await this.inspectContainer(rec.id);
    if (!info) return undefined;
    const labels = info.Config?.Labels ?? {};
    const same = labels[LABEL] === this.instance && (rec.podUID === undefined
      || (labels[POD_UID] === rec.podUID && labels[CONTAINER] === rec.container && labels[RESTART_COUNT] === String(rec.restartCount)));
    if (!same) return undefined;
    const name = (info.Name ?? rec.name).replace(/^\//, '');
    // As start reported it: its time, and conmon's pid (start does not inspect); records of older starts: podman's.
    const startedAt = typeof rec.startedAt === 'number' ? new Date(rec.startedAt)
      : info.State?.StartedAt && !info.State.StartedAt.startsWith('0001') ? new Date(info.State.StartedAt) : new Date();
    const conmonPid = this.conmonPid(name);
    const c = new PodmanContainer(this, name, info.Id, conmonPid || (info.State?.Pid ?? 0), startedAt, record, launch.sandbox);
    if (rec.podUID) this.adoptedPods.add(rec.podUID);
    return this.track(launch, c, info.State?.Status === 'running');
  }

  /** The libpod SpecGenerator `podman run` fills in from its flags. */
  private async runSpec(name: string, l: ContainerLaunch): Promise<Record<string, unknown>> {
    const labels: Record<string, string> = { [LABEL]: this.instance };
    // In namespaces of convergit's own: joined, with the pod's hostname and resolv.conf (its mounts go with the rest).
    const { mounts: sandboxMounts = [], ...sandbox } = (l.sandbox && (this.netnsPods.get(l.sandbox)
      ?? (hasPodNamespaces(l.sandbox) ? joinPodNamespaces(l.sandbox) : undefined))) || {} as Record<string, unknown>;
    if (l.podUID !== undefined) Object.assign(labels, { [POD_UID]: l.podUID, [CONTAINER]: containerName(l), [RESTART_COUNT]: String(l.restartCount ?? 0) });
    const spec: Record<string, unknown> = {
      name, labels,
      // conmon writes the log file in the CRI format (a time, the stream, each line), as CRI-O's does for the kubelet,
      // and reopens it on request after a rotation (reopenLog).
      log_configuration: { driver: 'k8s-file', path: l.logFile },
      conmon_pid_file: this.conmonPidFile(name),
      ...(l.sandbox ? { pod: l.sandbox } : { netns: { nsmode: 'none' } }),
      ...sandbox,
      work_dir: l.cwd,
      // As `podman run --workdir` does: a missing working directory is made.
      create_working_dir: true,
      env: l.env,
    };
    const mounts = [...(l.image ? [] : await (this.rootMounts ??= hostRoot(this.hostRootDir))), ...(l.mounts ?? [])];
    spec.mounts = [...sandboxMounts as unknown[], ...mounts.map((m) => ({ destination: m.containerPath, source: m.hostPath, type: 'bind', options: ['rbind', ...(m.readOnly ? ['ro'] : [])] }))];
    // Rootless on cgroup v1: podman cannot set limits and ignores them (the start says so, ignoredLimits).
    const res = this.ignoredLimits(l).length ? {} : l.resources ?? {};
    const limits: Record<string, Record<string, number>> = {};
    if (res.memoryLimitBytes) limits.memory = { limit: res.memoryLimitBytes, swap: res.memoryLimitBytes };
    // `--cpus`: a quota per 100 ms period; Kubernetes' shares: 1024 per core requested, at least 2.
    if (res.cpuLimitMillis) limits.cpu = { quota: Math.round(res.cpuLimitMillis * 100), period: 100_000 };
    if (res.cpuRequestMillis !== undefined) limits.cpu = { ...limits.cpu, shares: Math.max(2, Math.floor((res.cpuRequestMillis * 1024) / 1000)) };
    if (this.opts.pidsLimit && !(this.rootless && rootlessLimitsIgnored())) limits.pids = { limit: this.opts.pidsLimit };
    if (Object.keys(limits).length) spec.resource_limits = limits;
    const sec = l.security ?? {};
    // A group alone keeps the image's USER (its user part; root when unset), as the kubelet takes the image's user
    // when runAsUser is not given: podman's user cannot name a group alone.
    if (sec.runAsUser !== undefined || sec.runAsGroup !== undefined) {
      const user = sec.runAsUser ?? await this.imageUser(l.image);
      spec.user = `${user}${sec.runAsGroup !== undefined ? `:${sec.runAsGroup}` : ''}`;
    }
    if (sec.readOnlyRootFilesystem) spec.read_only_filesystem = true;
    if (sec.capabilities?.add?.length) spec.cap_add = sec.capabilities.add;
    if (sec.capabilities?.drop?.length) spec.cap_drop = sec.capabilities.drop;
    if (sec.allowPrivilegeEscalation === false) spec.no_new_privileges = true;
    if (sec.privileged) spec.privileged = true;
    // The whole argv as the entrypoint: the node has already applied Kubernetes' command/args rules.
    spec.entrypoint = l.argv;
    if (l.image) spec.image = l.image;
    else Object.assign(spec, { rootfs: this.hostRootDir, rootfs_overlay: true });
    return spec;
  }

  /** The user part of an image's configured USER (a name or a uid), '0' when it has none or runs the host's programs. */
  private async imageUser(image: string | undefined): Promise<string> {
    if (!image) return '0';
    const r = await this.api.call('GET', `/images/${seg(image)}/json`);
    const user = r.status === 200 ? String((r.body as { Config?: { User?: string } } | undefined)?.Config?.User ?? '') : '';
    return user.split(':')[0] || '0';
  }

  /** The limits of the launch this podman cannot enforce (rootless on cgroup v1), as the Warning the node reports. */
  private ignoredLimits(l: ContainerLaunch): string[] {
    if (!this.rootless || !rootlessLimitsIgnored()) return [];
    const r = l.resources ?? {};
    const named = [r.memoryLimitBytes && 'memory limit', r.cpuLimitMillis && 'cpu limit', r.cpuRequestMillis !== undefined && 'cpu request (shares)']
      .filter((x): x is string => typeof x === 'string');
    if (this.opts.pidsLimit) named.push('pids limit');
    return named.length
      ? [`${named.join(', ')} not enforced: rootless podman cannot set cgroup limits on this host's cgroup v1 (it needs cgroup v2 with the controllers delegated to the user)`]
      : [];
  }

  private conmonPidFile(name: string): string {
    return join(this.opts.stateDir, 'conmon', `${name}.pid`);
  }

  /** @internal */
  async inspectContainer(name: string): Promise<ContainerInspect | undefined> {
    const r = await this.api.call('GET', `/containers/${seg(name)}/json`);
    return r.status === 200 ? r.body as ContainerInspect : undefined;
  }

  /**
   * After a rotation renamed its log file: conmon opens the path anew (a new file), as CRI-O's ReopenContainerLog
   * asks it through the container's control FIFO (message 2). Lines written meanwhile went to the renamed file, so
   * none is lost. Rejects when the container or its conmon is gone.
   */
  async reopenLog(record: ContainerRecord): Promise<void> {
    if (!isPodmanRecord(record)) throw new Error('not a podman container');
    const r = await this.api.call('GET', `/containers/${seg(String(record.id))}/json`);
    if (r.status !== 200 || typeof r.body?.StaticDir !== 'string') throw new Error(apiError(r));
    // Non-blocking: with no conmon reading the FIFO the open fails (ENXIO) instead of hanging.
    const fh = await open(join(r.body.StaticDir as string, 'ctl'), fsConstants.O_WRONLY | fsConstants.O_NONBLOCK);
    try {
      await fh.write('2 0 0\n');
    } finally {
      await fh.close();
    }
  }

  /**
   * One image GC pass (image-gc.ts), at most one at a time; the node calls it when a pod has finished, and it runs
   * every 5 minutes (the kubelet's period) once called.
   */
  collectImages(): Promise<ImageGCResult> {
    if (!this.gcTimer) {
      this.gcTimer = setInterval(() => void this.collectImages().catch(() => {}), 5 * 60_000);
      this.gcTimer.unref();
    }
    this.gcRunning ??= collectImages(this.cli, this.imageUsage, this.opts.imageGC ?? DEFAULT_IMAGE_GC)
      .then((r) => { if (r.removed.length) this.present.clear(); return r; })
      .finally(() => { this.gcRunning = undefined; });
    return this.gcRunning;
  }

  /** Each record's container's cgroup usage (kubectl top); its cgroup is looked up once per container. */
  async usage(records: ContainerRecord[]): Promise<(ContainerUsageSample | undefined)[]> {
    return Promise.all(records.map(async (record) => {
      if (!isPodmanRecord(record)) return undefined;
      const id = String(record.id);
      let files = this.cgroups.get(id);
      if (!files) {
        // Its init is conmon's child (no inspect, whose answer is kilobytes of JSON a container); else podman says.
        const pid = this.initPid(String(record.name)) || ((await this.inspectContainer(id))?.State?.Pid ?? 0);
        files = pid ? cgroupFiles(pid, id) : undefined;
        if (files) this.cgroups.set(id, files);
      }
      const sample = files && cgroupUsage(files);
      if (!sample) this.cgroups.delete(id);
      return sample;
    }));
  }

  /** The container's conmon, from its pid file; 0 when not found. */
  private conmonPid(name: string): number {
    try {
      return Number(readFileSync(this.conmonPidFile(name), 'utf8')) || 0;
    } catch {
      return 0;
    }
  }

  /** The container's init process: its conmon's child; 0 when not found. */
  private initPid(name: string): number {
    const conmon = this.conmonPid(name);
    try {
      return conmon && (Number(readFileSync(`/proc/${conmon}/task/${conmon}/children`, 'utf8').trim().split(' ')[0]) || 0);
    } catch {
      return 0;
    }
  }

  /** @internal */
  signal(name: string, sig: 'TERM' | 'KILL'): Promise<unknown> {
    return this.api.call('POST', `/containers/${seg(name)}/kill`, { query: { signal: sig } }).catch(() => {});
  }

  /** Removed containers' conmons still running, by sandbox ('' for none): each until it is gone (10 s at most). */
  private readonly conmons = new Map<string, Set<Promise<void>>>();

  /** @internal Keeps the wait for a removed container's conmon `pid` under its sandbox. */
  lingering(sandbox: string | undefined, pid: number): void {
    const key = sandbox ?? '';
    const set = this.conmons.get(key) ?? new Set();
    this.conmons.set(key, set);
    const gone: Promise<void> = processGone(pid, 10_000).finally(() => {
      set.delete(gone);
      if (!set.size && this.conmons.get(key) === set) this.conmons.delete(key);
    });
    set.add(gone);
  }

  /** Once the conmons of `sandbox`'s removed containers (all, without one) are gone. */
  private async conmonsGone(sandbox?: string): Promise<void> {
    const sets = sandbox === undefined ? [...this.conmons.values()] : [this.conmons.get(sandbox) ?? new Set()];
    await Promise.all(sets.flatMap((set) => [...set]));
  }

  /** @internal */
  async remove(name: string): Promise<void> {
    await this.api.call('DELETE', `/containers/${seg(name)}`, { query: { force: true, timeout: 0 } }).catch(() => {});
    await rm(this.conmonPidFile(name), { force: true });
  }

  async exec(launch: ContainerLaunch, argv: string[], timeoutMs: number): Promise<ExecResult> {
    const name = this.current.get(launch.id);
    if (!name) return { exitCode: 126, output: `container ${launch.id} is not running`, timedOut: false };
    // A marker in the environment finds every process of this exec (its children too) to kill at a timeout.
    const marker = `CONVERGIT_EXEC=${randomUUID()}`;
    return new Promise((resolve) => {
      const child = spawn(this.cli.bin, ['exec', '-e', marker, name, ...argv], { env: this.cli.env, cwd: this.cli.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
      const output = collectExecOutput(child);
      let timedOut = false;
      let exitCode: number | null = null;
      const timer = setTimeout(() => {
        timedOut = true;
        killMarked(marker);
        child.kill('SIGKILL');
      }, timeoutMs);
      child.once('error', (e) => {
        clearTimeout(timer);
        resolve({ exitCode: 127, output: e.message, timedOut: false });
      });
      child.once('exit', (code) => {
        exitCode = timedOut ? null : code;
        killMarked(marker); // background children of the command go with it, as in the process runtime
      });
      child.once('close', () => {
        clearTimeout(timer);
        resolve({ exitCode, output: output.text(), timedOut });
      });
    });
  }
}

/** @internal */
export interface ContainerInspect {
  Id: string;
  Name?: string;
  Config?: { Labels?: Record<string, string> };
  State?: { Status?: string; Pid?: number; ConmonPid?: number; ExitCode?: number; OOMKilled?: boolean; StartedAt?: string; FinishedAt?: string; Error?: string };
}

class PodmanContainer implements RunningContainer {
  readonly exited: Promise<ContainerExit>;
  private resolve!: (e: ContainerExit) => void;
  private finishing?: Promise<void>;
  private sent: 'SIGTERM' | 'SIGKILL' | null = null;
  private killAt = Infinity;
  private killTimer?: NodeJS.Timeout;
  private done = false;

  constructor(private readonly rt: PodmanRuntime, readonly name: string, readonly containerID: string, readonly pid: number, readonly startedAt: Date,
    readonly record: ContainerRecord, private readonly sandbox: string | undefined, readonly warnings: string[] = []) {
    this.exited = new Promise((r) => { this.resolve = r; });
  }

  /** The container died: read how, remove it, settle `exited`. */
  finish(): Promise<void> {
    this.finishing ??= (async () => {
      const info = await this.rt.inspectContainer(this.name);
      const st = info?.State ?? {};
      // Removed by someone else before we could read it: the signal we sent is how it ended, if we sent one; else it
      // was removed from outside (`podman rm -f`, `podman pod rm -f`), which kills it: 137, as the kubelet reports a
      // container it can no longer find.
      const exitCode = st.ExitCode ?? (this.sent ? 128 + constants.signals[this.sent] : 137);
      const oom = exitCode === 137 && (st.OOMKilled === true || oomKilledInKernelLog(this.containerID));
      const signal = exitCode !== null && exitCode > 128 ? signalName(exitCode - 128) : null;
      this.done = true;
      clearTimeout(this.killTimer);
      await this.rt.remove(this.name); // before `exited` settles: nothing of it is left once it has
      // But its conmon: it lingers a second or more after the removal (it waits for its exit command, a `podman
      // container cleanup` process). Waiting for it here made every exit reported that much later (a restart, a
      // Job's completion); its sandbox's removal and close wait for it instead.
      this.rt.lingering(this.sandbox, this.pid);
      const finishedAt = st.FinishedAt && !st.FinishedAt.startsWith('0001') ? new Date(st.FinishedAt) : new Date();
      this.resolve({
        exitCode, signal,
        reason: oom ? 'OOMKilled' : exitCode === 0 ? 'Completed' : 'Error',
        ...(!info && !this.sent && { message: 'The container could not be located: it was removed outside convergit' }),
        startedAt: this.startedAt, finishedAt: finishedAt < this.startedAt ? this.startedAt : finishedAt,
      });
    })();
    return this.finishing;
  }

  stop(graceMs: number): Promise<ContainerExit> {
    if (this.done) return this.exited;
    if (!this.sent) {
      this.sent = 'SIGTERM';
      void this.rt.signal(this.name, 'TERM');
    }
    const at = Date.now() + graceMs;
    if (at < this.killAt) {
      this.killAt = at;
      clearTimeout(this.killTimer);
      this.killTimer = setTimeout(() => {
        this.sent = 'SIGKILL';
        void this.rt.signal(this.name, 'KILL');
      }, timerDelayMs(graceMs));
    }
    return this.exited;
  }
}

/** spec.hostAliases as podman's `hostadd` entries (`--add-host <name>:<ip>`). */
const hostAliasEntries = (spec: SandboxSpec) => (spec.hostAliases ?? []).flatMap((a) => (a.hostnames ?? []).map((h) => `${h}:${a.ip}`));

/** The container's name in its pod: the last part of `<namespace>/<pod>/<container>`. */
const containerName = (l: ContainerLaunch) => l.id.slice(l.id.lastIndexOf('/') + 1);

function signalName(n: number): string | null {
  for (const [name, num] of Object.entries(constants.signals)) if (num === n) return name;
  return null;
}

/** The OCI runtime's reason a container could not start, in the words Docker and the process runtime use. */
function startError(text: string, cwd: string): string {
  const exec = /exec: "[^"]*": [^\n]*?(?=: OCI |\n|$)/.exec(text);
  if (exec) return exec[0];
  const chdir = /chdir to cwd \("([^"]*)"\) set in config\.json failed: ([^:\n]*)/.exec(text);
  if (chdir) return `chdir to cwd (${JSON.stringify(chdir[1] || cwd)}) failed: ${chdir[2]}`;
  const last = text.split('\n').filter((l) => l.trim()).pop() ?? 'podman could not start the container';
  return last.replace(/^Error: /, '');
}

function failedContainer(startedAt: Date, exitCode: number, message: string): RunningContainer {
  const exit: ContainerExit = { exitCode, signal: null, reason: 'ContainerCannotRun', message, startedAt, finishedAt: new Date() };
  const exited = Promise.resolve(exit);
  return { pid: 0, startedAt, exited, stop: () => exited };
}

/** Resolves once process `pid` has exited (or after `ms`). */
async function processGone(pid: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (pid > 0 && Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** SIGKILL to every process whose environment holds `entry` (an exec's marker). Linux (/proc). */
function killMarked(entry: string): void {
  let names: string[];
  try {
    names = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return;
  }
  for (const n of names) {
    try {
      if (readFileSync(`/proc/${n}/environ`, 'latin1').split('\0').includes(entry)) process.kill(Number(n), 'SIGKILL');
    } catch { /* gone, or not ours to read */ }
  }
}
