// The shared suite every Runtime must pass: exits and reasons, start failures, logs, stop with grace and escalation,
// the container's children, exec. A runtime's test file only calls runtimeConformance(name, () => new MyRuntime()),
// with options where the runtime runs containers in namespaces of their own (podman).
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ContainerLaunch, RunningContainer, Runtime } from '../../src/node/runtime/runtime.ts';
import { presentLog } from '../../src/node/logs.ts';
import { envView } from '../../src/node/env.ts';

/** Polls `cond` until it holds; fails after `ms`. (Conformance must not lean on test-only helpers.) */
async function until(cond: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Alive and not a zombie (an orphan's zombie may never be reaped in a container). */
function alive(pid: number): boolean {
  if (existsSync('/proc/self/stat')) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      return !/^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
    } catch {
      return false;
    }
  }
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Host pids of live processes whose argv is exactly `argv` (found from the host, whatever pid namespace they are in). */
function processesRunning(argv: string[]): number[] {
  const want = argv.join('\0') + '\0';
  const found: number[] = [];
  for (const n of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (readFileSync(`/proc/${n}/cmdline`, 'utf8') === want && alive(Number(n))) found.push(Number(n));
    } catch { /* gone */ }
  }
  return found;
}

const node = process.execPath;
/** A node process that says "ready" once its SIGTERM handler is in place, then runs until stopped. */
const onTerm = (handler: string) => [node, '-e', `process.on('SIGTERM', () => { ${handler} }); console.log('ready'); setInterval(() => {}, 1000);`];

export interface ConformanceOptions {
  /** Runs before the suite (e.g. creates the runtime that makeRuntime returns) and after it. */
  before?: () => Promise<void>;
  after?: () => Promise<void>;
  /** Added to every launch: what the runtime needs to see the test's folder at its own path (mounts). */
  launch?: (dir: string) => Partial<ContainerLaunch>;
  /**
   * The container's command is PID 1 of its own pid namespace (as under Docker, containerd, podman): a signal it has
   * no handler for is ignored, so a plain process outlives SIGTERM and is killed when the grace is over.
   */
  pidNamespace?: boolean;
  /** A missing working directory is created (containerd, podman) instead of failing the start. */
  createsWorkingDir?: boolean;
  /** Another instance of the runtime over the same state, as the next convergit makes it (default: makeRuntime()). */
  restarted?: () => Promise<Runtime>;
}

export function runtimeConformance(suiteName: string, makeRuntime: () => Runtime, opts: ConformanceOptions = {}): void {
  const s = suite(suiteName);
  if (opts.before) s.before(opts.before);
  if (opts.after) s.after(opts.after);
  let dir = '';
  let runtime: Runtime;
  let started: RunningContainer[] = [];
  let n = 0;

  const launch = (argv: string[], extra: Partial<ContainerLaunch> = {}): ContainerLaunch => ({
    id: `default/pod/c${++n}`, argv, env: {}, cwd: dir, logFile: join(dir, 'logs', `${n}.log`), ...opts.launch?.(dir), ...extra,
  });
  /** A `sleep` no other process on the machine runs: found by its argv from the host. */
  const uniqueSleep = () => ['sleep', String(100_000 + Math.floor(Math.random() * 800_000))];
  /** Starts `l` and waits until it has written "ready": exec needs a running container. */
  const running = async (l: ContainerLaunch) => {
    const c = await start(l);
    await until(async () => (await log(l)).includes('ready'), 'ready');
    return c;
  };
  const sleeper = (extra: Partial<ContainerLaunch> = {}) => launch(['sh', '-c', 'echo ready; exec sleep 300'], extra);
  const start = async (l: ContainerLaunch) => {
    const c = await runtime.start(l);
    started.push(c);
    return c;
  };
  /** The log's text (a runtime may write CRI lines with their times: read as kubectl logs shows them). */
  const log = async (l: ContainerLaunch) => presentLog(await readFile(l.logFile, 'utf8').catch(() => ''), {});

  s.before.each(async () => {
    dir = await realpath(await mkdtemp(join(tmpdir(), 'convergit-runtime-')));
    runtime = makeRuntime();
  });
  s.after.each(async () => {
    await Promise.all(started.splice(0).map((c) => c.stop(0)));
    await rm(dir, { recursive: true, force: true });
  });

  s('a command that exits 0 is Completed, its stdout and stderr in the log file', async () => {
    const l = launch(['sh', '-c', 'echo out; echo err >&2']);
    const c = await start(l);
    assert.ok(c.pid > 0);
    const exit = await c.exited;
    assert.equal([exit.exitCode, exit.signal, exit.reason], [0, null, 'Completed']);
    assert.ok(exit.finishedAt.getTime() >= exit.startedAt.getTime());
    assert.is(await log(l), 'out\nerr\n');
  });

  s('a non-zero exit is Error with its code', async () => {
    const exit = await (await start(launch(['sh', '-c', 'exit 3']))).exited;
    assert.equal([exit.exitCode, exit.signal, exit.reason], [3, null, 'Error']);
  });

  s('the log file is appended to, its folder created', async () => {
    const l = launch(['sh', '-c', 'echo second'], { logFile: join(dir, 'deep', 'er', '0.log') });
    await (await start(l)).exited;
    const again = await start(l);
    await again.exited;
    assert.is(await log(l), 'second\nsecond\n');
  });

  s('the container runs in its cwd with its env', async () => {
    const l = launch(['sh', '-c', 'echo "$GREETING from $(pwd)"'], { env: { GREETING: 'hello' } });
    await (await start(l)).exited;
    assert.is(await log(l), `hello from ${dir}\n`);
  });

  s('a command not on PATH cannot run, and says so', async () => {
    const c = await start(launch(['convergit-no-such-cmd', 'x']));
    const exit = await c.exited;
    assert.is(exit.reason, 'ContainerCannotRun');
    assert.is(exit.message, 'exec: "convergit-no-such-cmd": executable file not found in $PATH');
    assert.ok(exit.exitCode !== 0);
    assert.is((await c.stop(100)).reason, 'ContainerCannotRun', 'stop of a container that never ran is harmless');
  });

  s('a missing path and a file that is not executable cannot run', async () => {
    const missing = await (await start(launch(['./nope.sh']))).exited;
    assert.is(missing.reason, 'ContainerCannotRun');
    assert.is(missing.message, 'exec: "./nope.sh": stat ./nope.sh: no such file or directory');
    await writeFile(join(dir, 'script.sh'), '#!/bin/sh\necho hi\n');
    await chmod(join(dir, 'script.sh'), 0o644);
    const denied = await (await start(launch(['./script.sh']))).exited;
    assert.is(denied.reason, 'ContainerCannotRun');
    assert.is(denied.message, 'exec: "./script.sh": permission denied');
    await chmod(join(dir, 'script.sh'), 0o755);
    const l = launch(['./script.sh']);
    assert.is((await (await start(l)).exited).reason, 'Completed', 'relative to its cwd once executable');
    assert.is(await log(l), 'hi\n');
  });

  if (!opts.createsWorkingDir) {
    s('a missing working directory cannot run', async () => {
      const exit = await (await start(launch(['sh', '-c', 'true'], { cwd: join(dir, 'gone') }))).exited;
      assert.is(exit.reason, 'ContainerCannotRun');
      assert.match(exit.message ?? '', /^chdir to cwd \(".*gone"\) failed: no such file or directory$/);
    });
  } else {
    s('a missing working directory is created, as containerd and podman do', async () => {
      const l = launch(['sh', '-c', 'pwd'], { cwd: join(dir, 'gone') });
      const exit = await (await start(l)).exited;
      assert.is(exit.reason, 'Completed');
      assert.is(await log(l), `${join(dir, 'gone')}\n`);
    });
  }

  if (!opts.pidNamespace) {
    s('stop sends SIGTERM first: a plain process dies of it (143)', async () => {
      const c = await start(launch(['sleep', '300']));
      const exit = await c.stop(10_000);
      assert.equal([exit.exitCode, exit.signal, exit.reason], [143, 'SIGTERM', 'Error']);
    });
  } else {
    s('PID 1 without a SIGTERM handler outlives SIGTERM and is killed when the grace is over (137)', async () => {
      const l = sleeper();
      const c = await running(l);
      const exit = await c.stop(300);
      assert.equal([exit.exitCode, exit.signal, exit.reason], [137, 'SIGKILL', 'Error']);
    });

    s('stop sends SIGTERM first: a child of PID 1 dies of it, and so does the container (143)', async () => {
      // PID 1 (sh) waits for its child and exits with the child's status: 128 + 15.
      const l = launch(['sh', '-c', 'echo ready; sleep 300 & wait $!; exit $?']);
      const c = await running(l);
      const exit = await c.stop(10_000);
      assert.is(exit.reason, 'Error');
      assert.ok(exit.exitCode === 143 || exit.exitCode === 137, `exit ${exit.exitCode}`);
    });
  }

  s('a process that handles SIGTERM shuts down cleanly within the grace', async () => {
    const l = launch(onTerm(`console.log('bye'); process.exit(0);`));
    const c = await start(l);
    await until(async () => (await log(l)).includes('ready'), 'ready');
    const exit = await c.stop(10_000);
    assert.equal([exit.exitCode, exit.signal, exit.reason], [0, null, 'Completed']);
    assert.is(await log(l), 'ready\nbye\n');
  });

  s('a process ignoring SIGTERM is killed with SIGKILL when the grace is over (137)', async () => {
    const l = launch(onTerm(`console.log('ignored');`));
    const c = await start(l);
    await until(async () => (await log(l)).includes('ready'), 'ready');
    const exit = await c.stop(200);
    assert.equal([exit.exitCode, exit.signal, exit.reason], [137, 'SIGKILL', 'Error']);
    assert.is(await log(l), 'ready\nignored\n', 'SIGTERM came first');
  });

  s('stop is safe to call twice, and after the exit', async () => {
    const c = await start(launch(['sleep', '300']));
    const [a, b] = await Promise.all([c.stop(5000), c.stop(5000)]);
    assert.is(a, b);
    assert.is(await c.stop(5000), a);
    assert.is(await c.exited, a);
  });

  s('a second stop with a shorter grace kills sooner', async () => {
    const l = launch(onTerm(''));
    const c = await start(l);
    await until(async () => (await log(l)).includes('ready'), 'ready');
    void c.stop(60_000);
    const exit = await c.stop(50);
    assert.is(exit.signal, 'SIGKILL');
  });

  s('stop reaches the children of the container', async () => {
    const sleep = uniqueSleep();
    const c = await start(launch(['sh', '-c', `${sleep.join(' ')} & wait`]));
    await until(() => processesRunning(sleep).length === 1, 'the child running');
    await c.stop(1000);
    assert.equal(processesRunning(sleep), [], 'the child is gone once exited settles');
  });

  s('when the main process exits, what is left of its group is killed', async () => {
    // The child ignores SIGTERM and outlives its parent: only a kill of the whole group reaches it.
    const sleep = uniqueSleep();
    // The main process exits once its child runs `sleep` (its cmdline shows it), not before.
    const c = await start(launch(['sh', '-c', `trap '' TERM; ${sleep.join(' ')} & until grep -q ${sleep[1]} /proc/$!/cmdline 2>/dev/null; do :; done; exit 0`]));
    const exit = await c.exited;
    assert.is(exit.reason, 'Completed');
    assert.equal(processesRunning(sleep), [], 'the orphan is gone once exited settles');
  });

  s('exec runs in the container cwd and env, with its output and exit code', async () => {
    const l = sleeper({ env: { GREETING: 'hello' } });
    await running(l);
    const r = await runtime.exec(l, ['sh', '-c', 'echo "$GREETING"; pwd; echo oops >&2; exit 4'], 5000);
    assert.equal(r, { exitCode: 4, output: `hello\n${dir}\noops\n`, timedOut: false });
    assert.equal(await runtime.exec(l, ['true'], 5000), { exitCode: 0, output: '', timedOut: false });
  });

  s('a launch whose env is a read-only view (as a pod worker gives it) starts and execs, though spawn writes into the env it is given under NODE_V8_COVERAGE', async () => {
    const own = { GREETING: 'hello', ...(process.env.PATH && { PATH: process.env.PATH }) };
    const env = envView({ own, services: { byName: new Map([['DB_SERVICE_HOST', '10.96.0.7']]) } });
    const l = launch(['sh', '-c', 'echo "ready $DB_SERVICE_HOST"; exec sleep 300'], { env });
    const coverage = process.env.NODE_V8_COVERAGE;
    process.env.NODE_V8_COVERAGE = join(dir, 'coverage');
    try {
      await running(l);
      assert.ok((await log(l)).includes('ready 10.96.0.7'), 'the Service variable reached the process');
      assert.equal(await runtime.exec(l, ['sh', '-c', 'echo "$GREETING $DB_SERVICE_HOST"'], 5000), { exitCode: 0, output: 'hello 10.96.0.7\n', timedOut: false });
    } finally {
      if (coverage === undefined) delete process.env.NODE_V8_COVERAGE;
      else process.env.NODE_V8_COVERAGE = coverage;
    }
  });

  s('exec of a missing command fails without throwing', async () => {
    const l = sleeper();
    await running(l);
    const r = await runtime.exec(l, ['convergit-no-such-cmd'], 5000);
    assert.ok(r.exitCode !== 0 && r.exitCode !== null);
    assert.is(r.timedOut, false);
    assert.match(r.output, 'executable file not found in $PATH');
  });

  s('exec is killed at its timeout, with its children', async () => {
    const l = sleeper();
    await running(l);
    const sleep = uniqueSleep();
    // 3 s: a `podman exec` alone can take a second to start its shell on a busy machine.
    const r = await runtime.exec(l, ['sh', '-c', `echo started; ${sleep.join(' ')} & wait`], 3000);
    assert.is(r.timedOut, true);
    assert.is(r.output, 'started\n');
    await until(() => processesRunning(sleep).length === 0, 'the exec child killed');
  });

  s('a container outlives its runtime: another instance adopts it by its record, exec reaches it, and it stops it', async () => {
    const l = launch(['sh', '-c', 'echo ready; while true; do echo tick; sleep 0.1; done']);
    const c = await running(l);
    assert.ok(c.record, 'started with a record to find it again');
    const again = opts.restarted ? await opts.restarted() : makeRuntime();
    assert.is(await again.adopt?.({ ...c.record, forged: true, pid: -1, id: 'convergit-no-such-container' }, l), undefined, 'a record of nothing');
    const a = (await again.adopt!(JSON.parse(JSON.stringify(c.record)), l))!;
    assert.ok(a, 'adopted');
    assert.equal([a.pid, a.containerID, a.startedAt.getTime()], [c.pid, c.containerID, c.startedAt.getTime()], 'the same container');
    const size = (await log(l)).length;
    await until(async () => (await log(l)).length > size, 'its log written on');
    assert.is((await again.exec(l, ['sh', '-c', 'echo in'], 5000)).output, 'in\n');
    const exit = await a.stop(1000);
    assert.ok(exit.signal === 'SIGTERM' || exit.signal === 'SIGKILL', `stopped by a signal: ${JSON.stringify(exit)}`);
    // podman says the container exited as its process is torn down: on a loaded machine its pid lingers a moment.
    await until(() => !alive(c.pid), 'gone once exited settles', 5000);
  });

  s('exec output is bounded', async () => {
    const l = sleeper();
    await running(l);
    const r = await runtime.exec(l, [node, '-e', `process.stdout.write('a'.repeat(1 << 20))`], 10_000);
    assert.is(r.exitCode, 0);
    assert.ok(r.output.length > 0 && r.output.length <= 64 * 1024, `output of ${r.output.length} chars`);
  });

  s.run();
}
