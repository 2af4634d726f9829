// The process runtime: each container is a real child process in its own process group, logging to a file.
import { spawn } from 'node:child_process';
import { constants as fsConstants, readlinkSync } from 'node:fs';
import { access, mkdir, stat } from '../quick-fs.ts';
import { constants } from 'node:os';
import { dirname } from 'node:path';
import { type ContainerExit, type ContainerLaunch, type ContainerRecord, type ExecResult, type Mount, type RunningContainer, type Runtime } from './runtime.ts';
import { groupGone, isSameProcessAlive, procStat, signalGroup } from './process-group.ts';
import { findStrays, removeStrays } from './process-strays.ts';
import { collectExecOutput } from './exec-output.ts';
import { spawnDetached, startSpawner, type ChildExit } from './process-spawner.ts';
import { processSecurity } from './process-security.ts';
import { watchLogTimes } from '../log-times.ts';
import { inMountNamespace, mountNamespaceFlags, underMount } from '../volumes/mount-namespace.ts';
import { join, resolve as resolvePath } from 'node:path';
import { timerDelayMs } from '../timer-delay.ts';

/** How a process container is found again: its pid (= its process group) and its start time, which a reused pid lacks. */
interface ProcessRecord { pid: number; startTime: string; startedAt: string }

/** How often an adopted process (not our child: no exit event) is looked at. */
const ADOPTED_POLL_MS = 100;
/** Every how many looks its start time is read again. */
const STAT_EVERY = 10;

/** A process of that pid exists (a zombie too): kill(pid, 0). */
function signalsReach(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class ProcessRuntime implements Runtime {
  /** The pid of each container with volumes (by launch id): exec probes run in its mount namespace. */
  private readonly namespaced = new Map<string, number>();

  /** The helper that starts containers, started now (a node starting) rather than by the first pod of a burst. */
  warmUp(): void {
    startSpawner();
  }

  async start(launch: ContainerLaunch): Promise<RunningContainer> {
    await mkdir(dirname(launch.logFile), { recursive: true });
    const startedAt = new Date();
    const mounts = await mountsOf(launch);
    // A working folder inside a volume exists only in the container's mount namespace: entered there.
    const problem = await cannotRun(launch.argv, underMount(launch.cwd, mounts) ? '/' : launch.cwd);
    if (problem) return failedContainer(startedAt, problem);
    // runAsUser/runAsGroup (when serve is root) and no_new_privs applied through setpriv; the rest warned about.
    const security = await processSecurity(launch);
    let argv = [...security.prefix, ...launch.argv];
    if (mounts.length) {
      // Inside the namespace a command that cannot run would be the shell's exit 127: told apart here, as spawn would.
      const missing = await missingCommand(launch.argv[0], launch.cwd, launch.env.PATH ?? process.env.PATH, mounts);
      if (missing) return failedContainer(startedAt, spawnFailure(launch.argv[0], missing));
      // Volumes: the process runs in a mount namespace of its own, or not at all (never without its volumes). The
      // pod's hostname is set there (without one, it sees the host's).
      const wrapped = await inMountNamespace(argv, mounts, launch.cwd, join(dirname(launch.logFile), '.mounts'), undefined, launch.hostname);
      if ('problem' in wrapped) return failedContainer(startedAt, { exitCode: 128, message: wrapped.problem });
      argv = wrapped.argv;
    }
    const spawned = await spawnDetached({
      file: argv[0], args: argv.slice(1), cwd: underMount(launch.cwd, mounts) ? '/' : launch.cwd, env: withPath(launch.env), logFile: launch.logFile,
    });
    // The OS refused to start it (not found, not executable).
    if ('error' in spawned) return failedContainer(startedAt, spawnFailure(launch.argv[0], spawned.error));
    if (mounts.length) this.namespaced.set(launch.id, spawned.pid);
    const container = timed(new ProcessContainer(spawned.pid, startedAt, spawned.startTime, spawned.exit), launch.logFile);
    return security.warnings.length ? Object.assign(container, { warnings: security.warnings }) : container;
  }

  async removeUnrecorded(dataDir: string, recorded: ContainerRecord[], select: (podUIDs: string[]) => Set<string> | Promise<Set<string>>): Promise<string[]> {
    const found = await findStrays(dataDir, new Set(recorded.map((r) => (r as unknown as ProcessRecord).pid)));
    if (!found.length) return [];
    // Asked only now, after /proc was read: a container seen there was started after its pod was bound, so the
    // answer sees that binding (a pod being bound and started right now is never taken for an orphan).
    const chosen = await select([...new Set(found.map((s) => s.podUID))]);
    const strays = found.filter((s) => chosen.has(s.podUID));
    await removeStrays(strays);
    return strays.map((s) => `process ${s.pid} of pod ${s.podUID}`);
  }

  /** Its pid and start time still match: a handle that watches it through /proc. Else its group's leftovers go. */
  async adopt(record: ContainerRecord, launch?: ContainerLaunch): Promise<RunningContainer | undefined> {
    const { pid, startTime, startedAt } = record as unknown as ProcessRecord;
    if (!Number.isSafeInteger(pid) || pid <= 0 || typeof startTime !== 'string') return undefined;
    if (isSameProcessAlive(pid, startTime)) {
      if (launch && (await mountsOf(launch)).length) this.namespaced.set(launch.id, pid);
      const adopted = new AdoptedContainer(pid, new Date(startedAt), record);
      return launch ? timed(adopted, launch.logFile) : adopted;
    }
    // The leader died meanwhile. While any member lives the group id cannot be handed out again, so a group without
    // its leader holds only what the container left: killed, as when a container's init dies. A live process under
    // the pid with another start time is someone else's; it and its group are left alone.
    if (!procStat(pid)) {
      signalGroup(pid, 'SIGKILL');
      await groupGone(pid);
    }
    return undefined;
  }

  async exec(launch: ContainerLaunch, command: string[], timeoutMs: number): Promise<ExecResult> {
    const inVolume = underMount(launch.cwd, launch.mounts);
    const problem = await cannotRun(command, inVolume ? '/' : launch.cwd);
    if (problem) return { exitCode: problem.exitCode, output: problem.message, timedOut: false };
    // A container with volumes: the command sees them too, from inside its mount namespace (and its working folder there).
    const pid = this.namespaced.get(launch.id);
    // As the container's own user, as a runtime's exec is.
    const { prefix } = await processSecurity(launch);
    const argv = pid && procStat(pid)
      ? ['nsenter', '--target', String(pid), ...namespacesOf(pid), '--', ...prefix, '/bin/sh', '-c', 'cd "$0" 2>/dev/null; exec "$@"', launch.cwd, ...command]
      : [...prefix, ...command];
    return new Promise((resolve) => {
      const child = spawn(argv[0], argv.slice(1), { cwd: inVolume ? '/' : launch.cwd, env: withPath(launch.env), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      const output = collectExecOutput(child);
      let timedOut = false;
      let exitCode: number | null = null;
      const timer = setTimeout(() => {
        timedOut = true;
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      }, timeoutMs);
      child.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        const failure = spawnFailure(argv[0], err);
        resolve({ exitCode: failure.exitCode, output: failure.message, timedOut: false });
      });
      child.once('exit', (code, signal) => {
        exitCode = exitCodeOf(code, signal);
        // Background children would hold the pipes open: the command's whole group goes with it.
        if (child.pid !== undefined) signalGroup(child.pid, 'SIGKILL');
      });
      child.once('close', () => {
        clearTimeout(timer);
        resolve({ exitCode, output: output.text(), timedOut });
      });
    });
  }
}

class ProcessContainer implements RunningContainer {
  readonly exited: Promise<ContainerExit>;
  readonly record?: ContainerRecord;
  private done = false;
  private termSent = false;
  private killAt = Infinity;
  private killTimer?: NodeJS.Timeout;

  constructor(readonly pid: number, readonly startedAt: Date, startTime: string | undefined, childExit: Promise<ChildExit | undefined>) {
    // The helper read the start time before it could reap the child (set at fork and kept across exec).
    if (startTime) this.record = { pid, startTime, startedAt: startedAt.toISOString() } satisfies ProcessRecord;
    this.exited = (async () => {
      let exit = await childExit;
      // The helper died: the process is watched through /proc, as an adopted one, and its status is unknown.
      if (!exit) {
        while (startTime && isSameProcessAlive(pid, startTime)) await new Promise((r) => setTimeout(r, ADOPTED_POLL_MS));
        exit = { code: null, signal: this.termSent ? 'SIGTERM' : null };
      }
      // As when a container's init dies: whatever is left of the group is killed, and waited for.
      if (signalGroup(pid, 'SIGKILL')) await groupGone(pid);
      this.done = true;
      clearTimeout(this.killTimer);
      const exitCode = exitCodeOf(exit.code, exit.signal);
      return { exitCode, signal: exit.signal, reason: exitCode === 0 ? 'Completed' : 'Error', startedAt, finishedAt: new Date() } satisfies ContainerExit;
    })();
  }

  stop(graceMs: number): Promise<ContainerExit> {
    if (this.done) return this.exited;
    if (!this.termSent) {
      this.termSent = true;
      signalGroup(this.pid, 'SIGTERM');
    }
    // A second stop may shorten the grace (a forced delete), never lengthen it.
    const at = Date.now() + graceMs;
    if (at < this.killAt) {
      this.killAt = at;
      clearTimeout(this.killTimer);
      this.killTimer = setTimeout(() => signalGroup(this.pid, 'SIGKILL'), timerDelayMs(graceMs));
    }
    return this.exited;
  }
}

/**
 * A container a previous convergit started: not our child, so its exit is seen by looking at /proc, and its exit
 * status cannot be known (its parent is now init). A stop reports the signal that ended it as a shell would.
 */
class AdoptedContainer implements RunningContainer {
  readonly exited: Promise<ContainerExit>;
  private done = false;
  private sent: NodeJS.Signals | null = null;
  private killAt = Infinity;
  private killTimer?: NodeJS.Timeout;

  constructor(readonly pid: number, readonly startedAt: Date, readonly record: ContainerRecord) {
    const { startTime } = record as unknown as ProcessRecord;
    this.exited = new Promise((resolve) => {
      let looks = 0;
      const look = async () => {
        // While it just runs: kill(pid, 0) each look (a syscall), /proc/<pid>/stat (pid reuse, the zombie of an init
        // that does not reap) every tenth; 1,000 re-adopted containers read 10,000 files a second otherwise. Once
        // stopped, every look reads it, so its end is seen at once.
        const cheap = !this.sent && ++looks % STAT_EVERY !== 1;
        if (cheap ? signalsReach(pid) : isSameProcessAlive(pid, startTime)) {
          const t = setTimeout(look, ADOPTED_POLL_MS);
          if (!this.sent) t.unref(); // watching alone keeps no process alive; waiting for a stop to end does
          return;
        }
        signalGroup(pid, 'SIGKILL'); // what the leader left in its group
        await groupGone(pid);
        this.done = true;
        clearTimeout(this.killTimer);
        const signal = this.sent;
        resolve({
          exitCode: signal ? 128 + (constants.signals[signal] ?? 0) : null, signal,
          reason: 'Error',
          message: signal ? undefined : 'exited while convergit was restarting or re-adopting it: its exit status is unknown',
          startedAt, finishedAt: new Date(),
        });
      };
      void look();
    });
  }

  stop(graceMs: number): Promise<ContainerExit> {
    if (this.done) return this.exited;
    if (!this.sent) {
      this.sent = 'SIGTERM';
      signalGroup(this.pid, 'SIGTERM');
    }
    const at = Date.now() + graceMs;
    if (at < this.killAt) {
      this.killAt = at;
      clearTimeout(this.killTimer);
      this.killTimer = setTimeout(() => {
        this.sent = 'SIGKILL';
        signalGroup(this.pid, 'SIGKILL');
      }, timerDelayMs(graceMs));
    }
    return this.exited;
  }
}

/** Its output has no time of its own: serve indexes when each byte was first seen (log-times.ts) while it runs. */
function timed(container: RunningContainer, logFile: string): RunningContainer {
  const unwatch = watchLogTimes(logFile);
  void container.exited.then(unwatch);
  return container;
}

/** Killed by a signal: 128 + its number, as a shell and Kubernetes report it (137 for SIGKILL, 143 for SIGTERM). */
function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (constants.signals[signal] ?? 0) : 0);
}

interface StartFailure { exitCode: number; message: string }

/**
 * Problems found before spawning, which the OS would report ambiguously (a bad cwd is ENOENT too). Through node:fs's
 * callbacks (quick-fs.ts), not blocking: the working folder and PATH are the pod's to choose, and may be on a mount
 * that hangs.
 */
async function cannotRun(argv: string[], cwd: string): Promise<StartFailure | undefined> {
  if (!argv.length || !argv[0]) return { exitCode: 127, message: 'no command specified' };
  const st = await stat(cwd).catch((e: NodeJS.ErrnoException) => e);
  if (st instanceof Error) return { exitCode: 128, message: `chdir to cwd (${JSON.stringify(cwd)}) failed: ${osText(st)}` };
  if (!st.isDirectory()) return { exitCode: 128, message: `chdir to cwd (${JSON.stringify(cwd)}) failed: not a directory` };
  return undefined;
}

/**
 * The error spawn would give for `cmd` (ENOENT: not found, EACCES: not executable), looked up as execvp does; none
 * when it may only exist inside the container's mounts (a path under one, or a PATH folder under one). Every PATH
 * folder lacking the command is a failed stat: through fs/promises each was a rejected promise with an Error and its
 * stack, ~0.5 ms of the event loop a pod (the largest of serve's own costs in a 1,000-pod creation); through the
 * callbacks a few microseconds. A folder serve cannot see (another user's home, for a serve that is not root) is
 * skipped, as execvp skips it.
 */
async function missingCommand(cmd: string, cwd: string, path: string | undefined, mounts: Mount[]): Promise<NodeJS.ErrnoException | undefined> {
  const error = (code: string) => Object.assign(new Error(code), { code });
  const candidates = cmd.includes('/') ? [resolvePath(cwd, cmd)] : (path ?? '').split(':').filter(Boolean).map((d) => resolvePath(cwd, d, cmd));
  if (candidates.some((c) => underMount(c, mounts))) return undefined;
  let found = false;
  for (const c of candidates) {
    const st = await stat(c).catch(() => undefined);
    if (!st || st.isDirectory()) continue;
    if (await access(c, fsConstants.X_OK).then(() => true, () => false)) return undefined;
    found = true;
  }
  return error(found ? 'EACCES' : 'ENOENT');
}

/** The OS error of a failed spawn in the words (and shell exit codes) of Docker and runc. */
function spawnFailure(cmd: string, err: NodeJS.ErrnoException): StartFailure {
  const q = JSON.stringify(cmd);
  if (err.code === 'ENOENT') {
    return cmd.includes('/')
      ? { exitCode: 127, message: `exec: ${q}: stat ${cmd}: no such file or directory` }
      : { exitCode: 127, message: `exec: ${q}: executable file not found in $PATH` };
  }
  if (err.code === 'EACCES') return { exitCode: 126, message: `exec: ${q}: permission denied` };
  return { exitCode: 128, message: `exec: ${q}: ${osText(err)}` };
}

/** "no such file or directory" rather than Node's "ENOENT: no such file or directory, stat '/x'". */
function osText(err: NodeJS.ErrnoException): string {
  const m = /^[A-Z]+: ([^,]+)/.exec(err.message);
  return m ? m[1] : err.message;
}

/**
 * Commands are looked up on the host's PATH unless the container's env sets its own. Always a plain copy: the
 * launch's env is a read-only view (node/env.ts envView), and spawn writes into the env it is given (under
 * NODE_V8_COVERAGE, for one).
 */
function withPath(env: Record<string, string>): Record<string, string> {
  return env.PATH === undefined && process.env.PATH !== undefined ? { PATH: process.env.PATH, ...env } : { ...env };
}

function failedContainer(startedAt: Date, failure: StartFailure): RunningContainer {
  const exit: ContainerExit = {
    exitCode: failure.exitCode, signal: null, reason: 'ContainerCannotRun', message: failure.message, startedAt, finishedAt: new Date(),
  };
  const exited = Promise.resolve(exit);
  return { pid: 0, startedAt, exited, stop: () => exited };
}

/**
 * What the container mounts: its volumes, then the pod's resolv.conf and hosts over the host's (never over a volume
 * the container mounts there itself, nor over a path the host lacks or a dangling link: the overlay that would make
 * it could write through the link to the host). Where no mount namespace can be made the pod's files are left out
 * and the host's are seen, as serve said when it started; volumes are never left out.
 */
async function mountsOf(launch: ContainerLaunch): Promise<Mount[]> {
  const own = launch.mounts ?? [];
  const files = launch.etcFiles;
  if (!files || (!own.length && 'problem' in await mountNamespaceFlags())) return own;
  const etc: Mount[] = [];
  for (const [containerPath, hostPath] of [['/etc/resolv.conf', files.resolvConf], ['/etc/hosts', files.hosts]] as const) {
    if (!hostPath || own.some((m) => resolvePath('/', m.containerPath) === containerPath)) continue;
    // Writable, as containerd mounts them (read-only only with readOnlyRootFilesystem): no remount, one exec less.
    if ((await stat(containerPath).catch(() => undefined))?.isFile()) etc.push({ hostPath, containerPath });
  }
  return [...own, ...etc];
}

/** nsenter's flags for a container's namespaces: its mount namespace, and its user namespace when it has its own. */
function namespacesOf(pid: number): string[] {
  const own = (ns: string) => { try { return readlinkSync(`/proc/${pid}/ns/${ns}`) !== readlinkSync(`/proc/self/ns/${ns}`); } catch { return false; } };
  // --preserve-credentials: nsenter would otherwise call setgroups, which a namespace made with --map-root-user denies.
  return [...(own('user') ? ['--user', '--preserve-credentials'] : []), '--mount', ...(own('uts') ? ['--uts'] : [])];
}
