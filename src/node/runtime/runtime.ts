// The one interface every container runtime implements (process.ts today); each must pass the shared suite in test/node/runtime-conformance.ts.

/** Everything a runtime needs to start one container: already resolved, nothing left to look up. */
export interface ContainerLaunch {
  /** `<namespace>/<pod>/<container>`, for messages. */
  id: string;
  /** argv[0] and its arguments, `$(VAR)` already expanded. */
  argv: string[];
  env: Record<string, string>;
  /** An existing directory: the image's extracted tree, or workingDir when the spec gives one. */
  cwd: string;
  /** stdout and stderr are appended here (created if missing), one line per write as the process writes them. */
  logFile: string;
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
  readonly startedAt: Date;
  /** Set when the runtime can re-adopt this container after a restart of convergit (see Runtime.adopt). */
  readonly record?: ContainerRecord;
  /** Settles once, when the process (its whole process group) has exited. Never rejects. */
  readonly exited: Promise<ContainerExit>;
  /** SIGTERM to the process group, SIGKILL after graceMs; resolves with the exit. Safe to call twice. */
  stop(graceMs: number): Promise<ContainerExit>;
}

export interface ExecResult { exitCode: number | null; output: string; timedOut: boolean }

export interface Runtime {
  /**
   * Starts the container. A command that cannot be started (not found, not executable, bad cwd) does not throw:
   * it returns a container whose `exited` settles at once with reason ContainerCannotRun and the OS message.
   */
  start(launch: ContainerLaunch): Promise<RunningContainer>;
  /** Runs a command in the container's context (its cwd and env), for exec probes; killed after timeoutMs. */
  exec(launch: ContainerLaunch, argv: string[], timeoutMs: number): Promise<ExecResult>;
  /**
   * Optional: takes back a container a previous convergit started (`record` is its RunningContainer.record, `launch`
   * what it was started with) and that outlived that convergit. Returns a handle as `start` does (its `exited` and
   * `stop` work the same; the exit code may be unknowable, exitCode null) when it still runs as recorded, or
   * undefined when it is gone (after cleaning up whatever it left). Never throws for a missing container.
   * A runtime without it has its containers started afresh after a restart.
   */
  adopt?(record: ContainerRecord, launch: ContainerLaunch): Promise<RunningContainer | undefined>;
}
