// Containers are started by a small long-lived helper process, not by serve itself: Node's spawn is synchronous
// (fork, then a blocking wait until the child has exec'd), which on a busy machine held serve's event loop 10–35 ms a
// container, so a 300-pod scale-up froze the API for seconds. The helper pays that wait on its own thread; serve
// sends it one JSON line a container and gets back the pid (and its start time, read before the helper could reap it),
// then later the exit status. The child is still started detached (its own session and process group, pgid = pid)
// with its output appended to its log file, exactly as a direct spawn did, so stop, re-adoption and `convergit stop`
// see no difference. The helper exits when serve goes (its stdin closes) and leaves every container running.
// It also runs short commands for other runtimes (`runCommand`: podman's pod namespaces), waited for, their stderr
// sent back: serve forks nothing on a pod's way.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

/** The helper's source (plain JavaScript, run with `node -e`: nothing to build or load). */
const HELPER = String.raw`
const { spawn } = require('node:child_process');
const { openSync, closeSync, readFileSync, writeFileSync } = require('node:fs');
const { createInterface } = require('node:readline');
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => {}); // it ends with serve, when its stdin closes
const send = (m) => { try { process.stdout.write(JSON.stringify(m) + '\n'); } catch {} };
process.stdout.on('error', () => {});
const startTime = (pid) => { try { const s = readFileSync('/proc/' + pid + '/stat', 'utf8'); return s.slice(s.lastIndexOf(')') + 2).split(' ')[19]; } catch { return undefined; } };
const run = (r) => {
  let child;
  try {
    child = spawn(r.file, r.args, { cwd: '/', env: r.env, stdio: ['ignore', 'ignore', 'pipe'], timeout: r.timeoutMs, killSignal: 'SIGKILL' });
  } catch (e) {
    return send({ id: r.id, error: { code: e.code, message: e.message } });
  }
  let stderr = '';
  child.stderr.on('data', (d) => { if (stderr.length < 65536) stderr += d; });
  child.on('error', (e) => send({ id: r.id, error: { code: e.code, message: e.message } }));
  child.on('close', (code, signal) => send({ id: r.id, ran: { code, signal, stderr } }));
};
createInterface({ input: process.stdin }).on('line', (line) => {
  const r = JSON.parse(line);
  if (r.run) return run(r);
  let fd;
  try { fd = openSync(r.log, 'a'); } catch (e) { return send({ id: r.id, fail: { code: e.code, message: e.message } }); }
  let child;
  try {
    child = spawn(r.file, r.args, { cwd: r.cwd, env: r.env, detached: true, stdio: ['ignore', fd, fd] });
  } catch (e) {
    closeSync(fd);
    return send({ id: r.id, error: { code: e.code, message: e.message } });
  } finally {
    if (child) closeSync(fd);
  }
  if (child.pid === undefined) return child.once('error', (e) => send({ id: r.id, error: { code: e.code, message: e.message } }));
  child.on('error', () => {});
  // Into the pods' cgroup at once (pods-cgroup.ts): what it starts from now on is born there. The helper stays out, so
  // its own work (spawns, reaping) counts with serve's, below serve's threads.
  if (r.cgroup) try { writeFileSync(r.cgroup, String(child.pid)); } catch {}
  send({ id: r.id, pid: child.pid, startTime: startTime(child.pid) });
  child.once('exit', (code, signal) => send({ id: r.id, exit: { code, signal } }));
}).on('close', () => process.exit(0));
`;

export interface SpawnRequest { file: string; args: string[]; cwd: string; env: Record<string, string>; logFile: string }
export interface ChildExit { code: number | null; signal: NodeJS.Signals | null }
export type Spawned =
  | { pid: number; startTime?: string; /** undefined: the helper died, the status is unknown (watch /proc). */ exit: Promise<ChildExit | undefined> }
  | { error: NodeJS.ErrnoException };

export interface CommandResult extends ChildExit { stderr: string }

interface Entry { started: (s: Spawned) => void; failed: (e: Error) => void; exited?: (e: ChildExit | undefined) => void; ran?: (r: CommandResult) => void }

class Helper {
  private readonly child: ChildProcess;
  private readonly entries = new Map<number, Entry>();
  private next = 0;
  dead = false;

  constructor(onDeath: () => void) {
    this.child = spawn(process.execPath, ['-e', HELPER], { stdio: ['pipe', 'pipe', 'inherit'] });
    this.child.stdin!.on('error', () => {});
    createInterface({ input: this.child.stdout! }).on('line', (line) => this.receive(JSON.parse(line)));
    this.child.once('exit', () => {
      this.dead = true;
      onDeath();
      // Containers already started go on; their exits are now seen through /proc by their owners.
      for (const e of this.entries.values()) {
        if (e.exited) e.exited(undefined);
        else e.failed(new Error('the container-starting helper process died'));
      }
      this.entries.clear();
    });
    this.refs();
  }

  spawn(r: SpawnRequest): Promise<Spawned> {
    return new Promise((resolve, reject) => {
      const id = ++this.next;
      this.entries.set(id, { started: resolve, failed: reject });
      this.refs();
      this.child.stdin!.write(`${JSON.stringify({ id, file: r.file, args: r.args, cwd: r.cwd, env: r.env, log: r.logFile, cgroup: groupProcs })}\n`);
    });
  }

  /** Runs `file` to its end (killed past `timeoutMs`): its exit and stderr. */
  run(file: string, args: string[], env: Record<string, string>, timeoutMs: number): Promise<CommandResult> {
    return new Promise((resolve, reject) => {
      const id = ++this.next;
      this.entries.set(id, { started: () => {}, failed: reject, ran: resolve });
      this.refs();
      this.child.stdin!.write(`${JSON.stringify({ id, run: true, file, args, env, timeoutMs })}\n`);
    });
  }

  private receive(m: {
    id: number; pid?: number; startTime?: string; exit?: ChildExit; ran?: CommandResult; error?: { code?: string; message: string }; fail?: { code?: string; message: string };
  }) {
    const e = this.entries.get(m.id);
    if (!e) return;
    if (e.ran) {
      // A command run to its end: its first answer (an error to start it, or its end) is the one.
      this.entries.delete(m.id);
      this.refs();
      return m.ran ? e.ran(m.ran) : e.failed(Object.assign(new Error(m.error?.message ?? 'spawn failed'), { code: m.error?.code }));
    }
    if (m.exit) {
      this.entries.delete(m.id);
      this.refs();
      return e.exited?.(m.exit);
    }
    if (m.pid !== undefined) {
      const exit = new Promise<ChildExit | undefined>((resolve) => { e.exited = resolve; });
      return e.started({ pid: m.pid, startTime: m.startTime, exit });
    }
    this.entries.delete(m.id);
    this.refs();
    const err = Object.assign(new Error(m.error?.message ?? m.fail?.message ?? 'spawn failed'), { code: m.error?.code ?? m.fail?.code }) as NodeJS.ErrnoException;
    if (m.fail) e.failed(err); // the log file could not be opened, as openSync threw before
    else e.started({ error: err });
  }

  /** While containers are starting or running, the helper keeps serve alive, as its own children did. */
  private refs() {
    const out = this.child.stdout as unknown as { ref(): void; unref(): void };
    if (this.entries.size) {
      this.child.ref();
      out.ref();
    } else {
      this.child.unref();
      out.unref();
    }
    (this.child.stdin as unknown as { unref(): void }).unref();
  }
}

let helper: Helper | undefined;
/** The `cgroup.procs` of the cgroup containers are moved into (pods-cgroup.ts), and how many engines asked for it. */
let groupProcs: string | undefined;
let groupUsers = 0;

/**
 * Every container started from now on is moved into cgroup `dir` as soon as it has started (the helper stays where
 * it is), until every caller has called the function returned.
 */
export function spawnInCgroup(dir: string): () => void {
  groupProcs = join(dir, 'cgroup.procs');
  groupUsers++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--groupUsers === 0) groupProcs = undefined;
  };
}

/** The shared helper, started if none runs: spawning it (a fork of serve) is tens of milliseconds of the event loop. */
function running(): Helper {
  if (!helper || helper.dead) {
    const h = new Helper(() => { if (helper === h) helper = undefined; });
    helper = h;
  }
  return helper;
}

/** Starts the helper now if none runs (it keeps nothing alive while it has no container to start or watch). */
export function startSpawner(): void {
  running();
}

/**
 * Runs `file` through the shared helper and waits for its end (killed past `timeoutMs`): a fork of the small helper,
 * not of serve, whose fork with a big heap cost tens of milliseconds of its event loop a command.
 */
export function runCommand(file: string, args: string[], opts: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<CommandResult> {
  return running().run(file, args, opts.env ?? { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' }, opts.timeoutMs ?? 60_000);
}

/** Starts `file` detached, its output appended to `logFile`, through the shared helper (started on first use). */
export function spawnDetached(r: SpawnRequest): Promise<Spawned> {
  return running().spawn(r);
}
