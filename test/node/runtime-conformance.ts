// The shared suite every Runtime must pass: exits and reasons, start failures, logs, stop with grace and escalation,
// the container's children, exec. A runtime's test file only calls runtimeConformance(name, () => new MyRuntime()).
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, realpath, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ContainerLaunch, RunningContainer, Runtime } from '../../src/node/runtime/runtime.ts';

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

const node = process.execPath;
/** A node process that says "ready" once its SIGTERM handler is in place, then runs until stopped. */
const onTerm = (handler: string) => [node, '-e', `process.on('SIGTERM', () => { ${handler} }); console.log('ready'); setInterval(() => {}, 1000);`];

export function runtimeConformance(suiteName: string, makeRuntime: () => Runtime): void {
  const s = suite(suiteName);
  let dir = '';
  let runtime: Runtime;
  let started: RunningContainer[] = [];
  let n = 0;

  const launch = (argv: string[], extra: Partial<ContainerLaunch> = {}): ContainerLaunch => ({
    id: `default/pod/c${++n}`, argv, env: {}, cwd: dir, logFile: join(dir, 'logs', `${n}.log`), ...extra,
  });
  const start = async (l: ContainerLaunch) => {
    const c = await runtime.start(l);
    started.push(c);
    return c;
  };
  const log = (l: ContainerLaunch) => readFile(l.logFile, 'utf8').catch(() => '');
  const pidIn = async (file: string) => {
    await until(async () => /^\d+\s*$/.test(await readFile(join(dir, file), 'utf8').catch(() => '')), `${file} written`);
    return Number(await readFile(join(dir, file), 'utf8'));
  };

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

  s('a missing working directory cannot run', async () => {
    const exit = await (await start(launch(['sh', '-c', 'true'], { cwd: join(dir, 'gone') }))).exited;
    assert.is(exit.reason, 'ContainerCannotRun');
    assert.match(exit.message ?? '', /^chdir to cwd \(".*gone"\) failed: no such file or directory$/);
  });

  s('stop sends SIGTERM first: a plain process dies of it (143)', async () => {
    const c = await start(launch(['sleep', '300']));
    const exit = await c.stop(10_000);
    assert.equal([exit.exitCode, exit.signal, exit.reason], [143, 'SIGTERM', 'Error']);
  });

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
    const c = await start(launch(['sh', '-c', 'sleep 300 & echo $! > child.pid; wait']));
    const child = await pidIn('child.pid');
    assert.ok(alive(child));
    await c.stop(5000);
    assert.not.ok(alive(child), 'the child is gone once exited settles');
  });

  s('when the main process exits, what is left of its group is killed', async () => {
    // The child ignores SIGTERM and outlives its parent: only a kill of the whole group reaches it.
    const c = await start(launch(['sh', '-c', `trap '' TERM; sleep 300 & echo $! > child.pid; exit 0`]));
    const child = await pidIn('child.pid');
    const exit = await c.exited;
    assert.is(exit.reason, 'Completed');
    assert.not.ok(alive(child), 'the orphan is gone once exited settles');
  });

  s('exec runs in the container cwd and env, with its output and exit code', async () => {
    const l = launch(['sleep', '300'], { env: { GREETING: 'hello' } });
    const r = await runtime.exec(l, ['sh', '-c', 'echo "$GREETING"; pwd; echo oops >&2; exit 4'], 5000);
    assert.equal(r, { exitCode: 4, output: `hello\n${dir}\noops\n`, timedOut: false });
    assert.equal(await runtime.exec(l, ['true'], 5000), { exitCode: 0, output: '', timedOut: false });
  });

  s('exec of a missing command fails without throwing', async () => {
    const r = await runtime.exec(launch(['sleep', '300']), ['convergit-no-such-cmd'], 5000);
    assert.ok(r.exitCode !== 0 && r.exitCode !== null);
    assert.is(r.timedOut, false);
    assert.match(r.output, 'executable file not found in $PATH');
  });

  s('exec is killed at its timeout, with its children', async () => {
    const r = await runtime.exec(launch(['sleep', '300']), ['sh', '-c', 'echo started; sleep 300 & echo $! > exec-child.pid; wait'], 300);
    assert.is(r.timedOut, true);
    assert.is(r.output, 'started\n');
    const child = await pidIn('exec-child.pid');
    await until(() => !alive(child), 'the exec child killed');
  });

  s('exec output is bounded', async () => {
    const r = await runtime.exec(launch(['sleep', '300']), [node, '-e', `process.stdout.write('a'.repeat(1 << 20))`], 10_000);
    assert.is(r.exitCode, 0);
    assert.ok(r.output.length > 0 && r.output.length <= 64 * 1024, `output of ${r.output.length} chars`);
  });

  s.run();
}
