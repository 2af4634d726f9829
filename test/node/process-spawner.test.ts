// Process containers are started through a long-lived helper process (src/node/runtime/process-spawner.ts): it must
// keep what a direct spawn gave (own process group, output in the log file, pid + start time for re-adoption), and
// when the helper dies, running containers are still seen to exit (through /proc) and new ones still start.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';
import { procStat } from '../../src/node/runtime/process-group.ts';
import { runCommand } from '../../src/node/runtime/process-spawner.ts';
import type { ContainerLaunch } from '../../src/node/runtime/runtime.ts';

const dir = mkdtempSync(join(tmpdir(), 'convergit-spawner-'));
let n = 0;
const launch = (argv: string[]): ContainerLaunch => ({ id: `default/p/c${++n}`, argv, env: {}, cwd: dir, logFile: join(dir, `${n}.log`) });
/** Our children running `node -e` (the helper), by pid. */
const helpers = () => execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' })
  .split('\n').filter((l) => / -e /.test(l)).map((l) => Number(l.trim().split(' ')[0]));

test('warmUp starts the helper before any container, and the next container is started by that one helper', async () => {
  // A helper an earlier test file left in this process goes first, and is reaped (its exit seen by its owner).
  const listed = (pid: number) => { try { execFileSync('ps', ['-o', 'pid=', '-p', String(pid)]); return true; } catch { return false; } };
  for (const h of helpers()) {
    process.kill(h, 'SIGKILL');
    for (let i = 0; i < 500 && listed(h); i++) await new Promise((r) => setTimeout(r, 10));
  }
  assert.equal(helpers(), [], 'no helper yet');
  const rt = new ProcessRuntime();
  rt.warmUp();
  const [helper, ...more] = helpers();
  assert.ok(helper, 'a helper runs before any container is started');
  assert.equal(more, []);
  const c = await rt.start(launch(['sleep', '30']));
  assert.is(procStat(c.pid)?.ppid, helper, 'started by the helper already running');
  assert.equal(helpers(), [helper]);
  await c.stop(5000);
});

test('a container started through the helper: own group, output in its file, record of pid and start time', async () => {
  const rt = new ProcessRuntime();
  const l = launch(['sh', '-c', 'echo hello; echo oops >&2; exit 3']);
  const c = await rt.start(l);
  const st = procStat(c.pid);
  const rec = c.record as { pid: number; startTime: string } | undefined;
  assert.is(rec?.pid, c.pid);
  if (st) assert.is(rec?.startTime, st.startTime); // still running (else it was read before the helper reaped it)
  assert.ok(/^\d+$/.test(rec?.startTime ?? ''), `start time ${rec?.startTime}`);
  const exit = await c.exited;
  assert.is(exit.exitCode, 3);
  assert.is(readFileSync(l.logFile, 'utf8'), 'hello\noops\n');
  const sleeper = await rt.start(launch(['sleep', '30']));
  assert.is(procStat(sleeper.pid)?.pgrp, sleeper.pid, 'its own process group');
  assert.is((await sleeper.stop(5000)).exitCode, 143);
});

test('the helper killed: a running container is still seen to stop, and the next one starts with a new helper', async () => {
  const rt = new ProcessRuntime();
  const c = await rt.start(launch(['sleep', '30']));
  const [helper] = helpers();
  assert.ok(helper, 'a helper runs');
  process.kill(helper, 'SIGKILL');
  for (let i = 0; i < 500 && helpers().includes(helper); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(procStat(c.pid), 'the container outlived the helper');
  const exit = await c.stop(5000);
  assert.is(exit.exitCode, 143, 'reported as ended by the SIGTERM it was sent');
  assert.ok(['Z', 'X', undefined].includes(procStat(c.pid)?.state), 'gone (or a zombie of an init that does not reap)');
  const next = await rt.start(launch(['sh', '-c', 'exit 0']));
  assert.is((await next.exited).exitCode, 0);
  assert.not.ok(helpers().includes(helper));
});

test('a command that does not exist fails to start, as a direct spawn did', async () => {
  const c = await new ProcessRuntime().start(launch(['no-such-command-here']));
  const exit = await c.exited;
  assert.is(exit.exitCode, 127);
  assert.is(exit.reason, 'ContainerCannotRun');
});

test('runCommand: a command run to its end by the helper, its exit and stderr back; one that runs over is killed', async () => {
  const ok = await runCommand('sh', ['-c', 'echo out; echo oops >&2; exit 3']);
  assert.equal(ok, { code: 3, signal: null, stderr: 'oops\n' });
  const [helper] = helpers();
  const child = await runCommand('sh', ['-c', 'echo $PPID >&2']);
  assert.is(Number(child.stderr), helper, 'forked by the helper, not by this process');
  const slow = await runCommand('sleep', ['30'], { timeoutMs: 200 });
  assert.is(slow.signal, 'SIGKILL');
  const missing = await runCommand('no-such-command-here', []).then(() => undefined, (e: Error) => e.message);
  assert.match(missing ?? '', /ENOENT/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
