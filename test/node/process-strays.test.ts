// A container process serve started but never recorded (killed between the spawn and the pids.json write) is
// found by the next start in /proc and stopped; recorded ones, their own process groups, other folders' and other
// nodes' pods' are left alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProcessRuntime } from '../../src/node/runtime/process.ts';
import { findStrays } from '../../src/node/runtime/process-strays.ts';
import type { ContainerLaunch, RunningContainer } from '../../src/node/runtime/runtime.ts';
import { until } from '../support/wait.ts';

const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };

test('removeUnrecorded stops only unrecorded containers of this folder\'s pods that are this node\'s', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-strays-'));
  const other = mkdtempSync(join(tmpdir(), 'convergit-strays-other-'));
  const runtime = new ProcessRuntime();
  const started: RunningContainer[] = [];
  // As pod-worker launches it: the pod's uid and a termination-message path inside the data folder.
  const run = async (folder: string, uid: string, script: string) => {
    const launch: ContainerLaunch = {
      id: `default/${uid}/c`, argv: [process.execPath, '-e', script], cwd: folder, logFile: join(folder, 'pods', uid, 'c', '0.log'),
      env: { CONVERGIT_POD_UID: uid, CONVERGIT_TERMINATION_MESSAGE_PATH: join(folder, 'pods', uid, 'c', '0.termination-log') },
    };
    const c = await runtime.start(launch);
    started.push(c);
    return c;
  };
  const forever = 'setInterval(() => {}, 1000)';
  // A container that makes a process group of its own (setsid), which must stay its.
  // (It exits once its parent is gone, so the test leaves nothing behind: the parent's pid comes from the parent,
  // since a child that read its ppid only after the parent died would wait on init forever.)
  const child = 'const p = Number(process.env.PARENT_PID); setInterval(() => { if (process.ppid !== p) process.exit(0); }, 50)';
  const grouping = `require('child_process').spawn(process.execPath, ['-e', ${JSON.stringify(child)}], { detached: true, stdio: 'ignore', env: { ...process.env, PARENT_PID: String(process.pid) } }); ${forever}`;
  try {
    const recorded = await run(dir, 'recorded', grouping);
    const stray = await run(dir, 'stray', forever);
    const elsewhere = await run(dir, 'other-node', forever);
    const otherFolder = await run(other, 'stray', forever);
    const mine = (uids: string[]) => new Set(uids.filter((uid) => uid !== 'other-node'));
    const removed = await runtime.removeUnrecorded(dir, [recorded.record!], mine);
    assert.equal(removed, [`process ${stray.pid} of pod stray`]);
    // Gone once its parent (the spawner) has reaped it: a zombie still answers kill(pid, 0).
    await until(() => !alive(stray.pid!), 'the stray to be gone');
    for (const c of [recorded, elsewhere, otherFolder]) assert.ok(alive(c.pid!), `${c.pid} runs on`);
    // The recorded container's own group (its setsid child) is not a stray either: a second pass finds nothing.
    assert.equal(await runtime.removeUnrecorded(dir, [recorded.record!], mine), []);
  } finally {
    await Promise.all(started.map((c) => c.stop(0)));
    await until(() => started.every((c) => !alive(c.pid!)), 'the test\'s containers to stop');
    rmSync(dir, { recursive: true, force: true });
    rmSync(other, { recursive: true, force: true });
  }
});

test('a process looked at between its fork and its exec (its parent\'s environment still) is found once it has exec\'d', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-strays-young-'));
  const mark = `CONVERGIT_TERMINATION_MESSAGE_PATH=${join(dir, 'pods', 'late', 'c', '0.termination-log')}`;
  // Its own group (detached), as a container; it takes on a container's environment only when it execs, 0.5 s in.
  const p = spawn('/bin/sh', ['-c', `sleep 0.5; exec env CONVERGIT_POD_UID=late '${mark}' sleep 60`], { detached: true, stdio: 'ignore' });
  const environ = () => { try { return readFileSync(`/proc/${p.pid}/environ`, 'latin1'); } catch { return ''; } };
  try {
    await until(() => environ() !== '', 'the process to be there');
    assert.not.ok(environ().includes(mark), 'not exec\'d yet');
    assert.equal(await findStrays(dir, new Set()), [], 'no mark yet: not a stray');
    await until(() => environ().includes(mark), 'the exec');
    assert.equal(await findStrays(dir, new Set()), [{ pid: p.pid!, podUID: 'late' }], 'looked at again, not remembered as foreign');
  } finally {
    process.kill(-p.pid!, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
