// The one interface every container runtime implements (process.ts, podman/); each must pass the shared suite in test/node/runtime-conformance.ts.

/** Everything a runtime needs to start one container: already resolved, nothing left to look up. */
export interface ContainerLaunch {
  /** `<namespace>/<pod>/<container>`, for messages. */
  id: string;
  /** argv[0] and its arguments, `$(VAR)` already expanded. */
  argv: string[];
  env: Record<string, string>;
  /** An existing directory: the image's extracted tree, or workingDir when the spec gives one. With an image
   * runtime, a path inside the container (created when missing, as containerd and podman do). */
  cwd: string;
  /** stdout and stderr are appended here (created if missing): as the process writes them (process runtime, which
   * has serve index when each byte was seen: log-times.ts), or as CRI log lines with their time (podman); logs.ts's
   * presentLog reads both. */
  logFile: string;
  /** Who the container is, for runtimes that label their containers to find them again after a restart (podman). */
  podUID?: string;
  restartCount?: number;
  // ---- for runtimes that run images (podman); the process runtime ignores these but `mounts` -------------------
  /** The image to run, as `pullImage` returned it (its id); absent: the host's own programs (its system folders, read-only). */
  image?: string;
  /** The pod sandbox (`createSandbox`) the container joins: its network namespace; absent: a sandbox of its own without network. */
  sandbox?: string;
  /** Host folders or files mounted into the container: the pod's volumes (and a git image's tree on podman). The
   * process runtime mounts them too, in a mount namespace of the container's own (node/volumes/mount-namespace.ts). */
  mounts?: Mount[];
  resources?: ContainerResources;
  security?: ContainerSecurity;
  /** For runtimes without sandboxes (the process runtime): the pod's own /etc files (node/pod-etc-files.ts), to be
   * mounted over the host's where the runtime can make a mount namespace; absent ones stay the host's. */
  etcFiles?: EtcFiles;
  /** For runtimes without sandboxes: the pod's hostname, set in a UTS namespace of the container's own where the
   * runtime can make one (sandboxes carry it in SandboxSpec). */
  hostname?: string;
}

/** Host paths of a pod's /etc/resolv.conf and /etc/hosts, as the node wrote them. */
export interface EtcFiles { resolvConf?: string; hosts?: string }

export interface Mount { hostPath: string; containerPath: string; readOnly?: boolean }

/** From the container's resources, already parsed. */
export interface ContainerResources {
  /** limits.memory in bytes: over it the container is killed (OOMKilled, 137). */
  memoryLimitBytes?: number;
  /** limits.cpu in millicores: a CFS quota. */
  cpuLimitMillis?: number;
  /** requests.cpu in millicores: cpu shares (1000m = 1024). */
  cpuRequestMillis?: number;
}

/** The securityContext basics a container runtime gives (pod-level values already merged in). */
export interface ContainerSecurity {
  runAsUser?: number;
  runAsGroup?: number;
  readOnlyRootFilesystem?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  allowPrivilegeEscalation?: boolean;
  privileged?: boolean;
}

/** What a sandbox is made of: the pod's own network namespace with its address, shared by its containers. */
export interface SandboxSpec {
  /** `<namespace>/<pod>`, for names and messages. */
  id: string;
  uid: string;
  /** The node's pod CIDR: the sandbox's address is on this node's bridge for it. */
  podCIDR: string;
  /** The pod's address (from podCIDR); ignored with hostNetwork. */
  ip: string;
  /** The host's network namespace instead of one of its own. */
  hostNetwork: boolean;
  hostname?: string;
  /** spec.hostAliases: more lines of the pod's /etc/hosts. */
  hostAliases?: { ip: string; hostnames?: string[] }[];
  /** Container ports with a hostPort, published on the host. */
  hostPorts: { containerPort: number; hostPort: number; protocol: 'TCP' | 'UDP' | 'SCTP'; hostIP?: string }[];
  /** The pod's resolv.conf (node/pod-dns.ts); undefined: the runtime's default (the host's). */
  dns?: { nameservers: string[]; searches: string[]; options: string[] };
}

/** An image ready to run, as `pullImage` found or pulled it. */
export interface ImageInfo {
  /** Pass as ContainerLaunch.image. */
  id: string;
  /** What pod status reports as imageID: `<repository>@sha256:…` when known, else `sha256:<id>`. */
  imageID: string;
  entrypoint: string[];
  cmd: string[];
  /** The image's WorkingDir ('' when unset). */
  workingDir: string;
}

export interface PullOptions {
  policy: 'Always' | 'IfNotPresent' | 'Never';
  /** A docker config.json (`kubernetes.io/dockerconfigjson` Secrets' `.dockerconfigjson`, merged) with the registries' credentials. */
  auth?: { auths: Record<string, { auth?: string; username?: string; password?: string }> };
}

/** A pull that failed: `reason` is the container's waiting reason (ErrImagePull; ErrImageNeverPull for policy Never). */
export class ImagePullError extends Error {
  constructor(readonly reason: 'ErrImagePull' | 'ErrImageNeverPull', message: string) {
    super(message);
  }
}

export interface ContainerExit {
  /** Killed by a signal: 128 + its number (137 SIGKILL, 143 SIGTERM), as Kubernetes reports it; null only if a runtime cannot tell. */
  exitCode: number | null;
  /** e.g. 'SIGTERM', or null. */
  signal: string | null;
  /** Kubernetes' terminated reason: Completed (exit 0), Error, ContainerCannotRun, OOMKilled. */
  reason: 'Completed' | 'Error' | 'ContainerCannotRun' | 'OOMKilled';
  message?: string;
  startedAt: Date;
  finishedAt: Date;
}

/**
 * What a runtime needs to find one of its containers again after convergit restarts: plain JSON, opaque to the node,
 * which keeps it (with the ContainerLaunch) in <dataDir>/nodes/<node>/pids.json and hands it back to `adopt`.
 */
export type ContainerRecord = Record<string, unknown>;

export interface RunningContainer {
  readonly pid: number;
  /** The runtime's own id for the container (podman), reported as `<runtime>://<id>`; absent for plain processes. */
  readonly containerID?: string;
  readonly startedAt: Date;
  /** Set when the runtime can re-adopt this container after a restart of convergit (see Runtime.adopt). */
  readonly record?: ContainerRecord;
  /** What of the launch the runtime could not apply (e.g. limits, rootless on cgroup v1): the node's Warning events. */
  readonly warnings?: string[];
  /** Settles once, when the process (its whole process group) has exited. Never rejects. */
  readonly exited: Promise<ContainerExit>;
  /** SIGTERM to the process group, SIGKILL after graceMs; resolves with the exit. Safe to call twice. */
  stop(graceMs: number): Promise<ContainerExit>;
}

export interface ContainerUsageSample { cpuSeconds: number; memoryBytes: number }

export interface ExecResult { exitCode: number | null; output: string; timedOut: boolean }

export interface Runtime {
  /**
   * Starts the container. A command that cannot be started (not found, not executable, bad cwd) does not throw:
   * it returns a container whose `exited` settles at once with reason ContainerCannotRun and the OS message.
   */
  start(launch: ContainerLaunch): Promise<RunningContainer>;
  /** Runs a command in the container's context (its cwd and env), for exec probes; killed after timeoutMs, with its
   * children. Image runtimes run it inside the running container started from a launch with this `id`. */
  exec(launch: ContainerLaunch, argv: string[], timeoutMs: number): Promise<ExecResult>;
  /**
   * Optional: takes back a container a previous convergit started (`record` is its RunningContainer.record, `launch`
   * what it was started with) and that outlived that convergit. Returns a handle as `start` does (its `exited` and
   * `stop` work the same; the exit code may be unknowable, exitCode null) when it still runs as recorded, or
   * undefined when it is gone (after cleaning up whatever it left). A runtime that still knows how a container that
   * died meanwhile ended (podman keeps it) may instead return a handle whose `exited` settles at once with that exit,
   * so the pod reports it and restarts it as its policy says. Never throws for a missing container.
   * A runtime without it has its containers started afresh after a restart.
   */
  adopt?(record: ContainerRecord, launch: ContainerLaunch): Promise<RunningContainer | undefined>;
  /**
   * Optional: stops this data folder's containers that no record names (started just before serve was killed,
   * recorded never), so that each runs once; their pods start them again. Only those of the pods `select` returns,
   * asked with the pod uids found once the runtime's containers were listed (other nodes on the folder may be
   * starting theirs). Returns what it stopped, for the log.
   */
  removeUnrecorded?(dataDir: string, recorded: ContainerRecord[], select: (podUIDs: string[]) => Set<string> | Promise<Set<string>>): Promise<string[]>;
  /**
   * Optional: after a rotation renamed the container's log file, the runtime writes to a new file at the same path
   * (the kubelet's ReopenContainerLog). Without it, rotation copies the file and cuts the copied part out of it in
   * place (the process runtime: its child writes its file itself). Rejects when the container is gone.
   */
  reopenLog?(record: ContainerRecord): Promise<void>;
  /**
   * Optional: what the containers of these records have used, from their cgroups (kubectl top): cumulative cpu
   * seconds and working-set memory bytes, one entry per record (undefined for one not running). Without it the node
   * measures a record's process group through /proc (the process runtime).
   */
  usage?(records: ContainerRecord[]): Promise<(ContainerUsageSample | undefined)[]>;
  /**
   * Optional: false when its containers use no folder of the host (the hollow runtime): the node then makes no
   * scratch or working folder per pod, which at thousands of pods is a syscall storm for nothing. Default true.
   */
  readonly usesHostFolders?: boolean;
  /** Optional: image garbage collection past a disk threshold (the kubelet's); returns the images it removed. */
  collectImages?(): Promise<{ removed: string[]; usagePercent: number }>;
  /** Optional: readies what starting containers needs (the process runtime's helper), called when a node starts, so
   * the first start of a burst of pods does not pay for it on the event loop meanwhile. */
  warmUp?(): void;

  // ---- optional: runtimes that run images in pod sandboxes (podman). Without them a pod's containers are host
  // processes on the pod's loopback address, as the process runtime runs them. ------------------------------------
  /** The runtime's name in `<name>://<id>` container ids and the Node's containerRuntimeVersion. */
  readonly name?: string;
  /** Finds or pulls `image` as the policy says; rejects with ImagePullError. */
  pullImage?(image: string, opts: PullOptions): Promise<ImageInfo>;
  /** Creates the pod's sandbox and returns its id; the first address of `podCIDR` is the bridge's (never a pod's). */
  createSandbox?(spec: SandboxSpec): Promise<string>;
  /** Removes the sandbox (its containers already stopped). Safe to call twice. */
  removeSandbox?(sandbox: string): Promise<void>;
  /** Whether the sandbox still holds the pod's network (its infra runs): false once it was removed or died under the
   * pod, from outside (the kubelet's PLEG sees the same): the pod worker then makes a new one (SandboxChanged). */
  sandboxReady?(sandbox: string): Promise<boolean>;
}
