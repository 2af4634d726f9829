// The hollow runtime (Kubernetes' kubemark): containers that run no process, so a scale test of controllers,
// scheduler, store and API can run thousands of pods on one machine. A container is running once start() resolves,
// after `startDelayMs`; it runs until stopped, unless its env tells it to exit or fail (HOLLOW_ENV below), so a
// test can drive every container outcome from plain pod YAML (also through the downward API, from an annotation).
import type { ContainerExit, ContainerLaunch, ExecResult, RunningContainer, Runtime } from '../runtime.ts';

export interface HollowOptions {
  /** How long a container takes to start (image pull and process start). Default 0. */
  startDelayMs?: number;
}

/** The env variables a hollow container obeys; all are optional, a container without them runs until stopped. */
export const HOLLOW_ENV = {
  /** A message: the container cannot run (ContainerCannotRun), as a missing command would. */
  cannotRun: 'CONVERGIT_HOLLOW_CANNOT_RUN',
  /** An exit code: the container exits with it (0 Completed, else Error) after HOLLOW_RUN_MS. */
  exitCode: 'CONVERGIT_HOLLOW_EXIT_CODE',
  /** How long the container runs before it exits with CONVERGIT_HOLLOW_EXIT_CODE, in ms. Default 0. */
  runMs: 'CONVERGIT_HOLLOW_RUN_MS',
  /** The exit code of every exec (exec probes) in the container. Default 0, so exec probes succeed. */
  execExitCode: 'CONVERGIT_HOLLOW_EXEC_EXIT_CODE',
} as const;

export class HollowRuntime implements Runtime {
  /** No process reads or writes a folder: the node makes none per pod. */
  readonly usesHostFolders = false;
  private readonly startDelayMs: number;

  constructor(opts: HollowOptions = {}) {
    this.startDelayMs = opts.startDelayMs ?? 0;
  }

  async start(launch: ContainerLaunch): Promise<RunningContainer> {
    if (this.startDelayMs > 0) await new Promise((r) => setTimeout(r, this.startDelayMs));
    const startedAt = new Date();
    const cannotRun = launch.env[HOLLOW_ENV.cannotRun];
    if (cannotRun !== undefined) return cannotRunContainer(startedAt, cannotRun || 'hollow container told not to run');
    try {
      const code = intEnv(launch, HOLLOW_ENV.exitCode);
      return new HollowContainer(startedAt, code, code === undefined ? undefined : intEnv(launch, HOLLOW_ENV.runMs) ?? 0);
    } catch (e) {
      return cannotRunContainer(startedAt, (e as Error).message); // as a real runtime reports a bad container spec
    }
  }

  async exec(launch: ContainerLaunch, _argv: string[], _timeoutMs: number): Promise<ExecResult> {
    try {
      return { exitCode: intEnv(launch, HOLLOW_ENV.execExitCode) ?? 0, output: '', timedOut: false };
    } catch (e) {
      return { exitCode: 126, output: (e as Error).message, timedOut: false };
    }
  }
}

function cannotRunContainer(startedAt: Date, message: string): RunningContainer {
  const exit: ContainerExit = { exitCode: 128, signal: null, reason: 'ContainerCannotRun', message, startedAt, finishedAt: new Date() };
  return { pid: 0, startedAt, exited: Promise.resolve(exit), stop: async () => exit };
}

/** A whole number from the container's env; a garbled one is a mistake in the test, said at once. */
function intEnv(launch: ContainerLaunch, name: string): number | undefined {
  const v = launch.env[name];
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim())) throw new Error(`${launch.id}: ${name}=${JSON.stringify(v)} is not a whole number`);
  return Number(v);
}

class HollowContainer implements RunningContainer {
  /** No process: pid 0, so the node records nothing to reap after a crash. */
  readonly pid = 0;
  readonly exited: Promise<ContainerExit>;
  private settle!: (e: ContainerExit) => void;
  private result?: ContainerExit;
  private timer?: NodeJS.Timeout;

  constructor(readonly startedAt: Date, exitCode: number | undefined, runMs: number | undefined) {
    this.exited = new Promise((r) => { this.settle = r; });
    if (exitCode !== undefined) {
      this.timer = setTimeout(() => this.finish({ exitCode, signal: null, reason: exitCode === 0 ? 'Completed' : 'Error' }), runMs);
    }
  }

  /** A hollow process dies of SIGTERM at once (143), as a process without a handler does; graceMs never runs out. */
  stop(_graceMs: number): Promise<ContainerExit> {
    this.finish({ exitCode: 143, signal: 'SIGTERM', reason: 'Error' });
    return this.exited;
  }

  private finish(e: Pick<ContainerExit, 'exitCode' | 'signal' | 'reason'>): void {
    if (this.result) return;
    clearTimeout(this.timer);
    this.result = { ...e, startedAt: this.startedAt, finishedAt: new Date() };
    this.settle(this.result);
  }
}
