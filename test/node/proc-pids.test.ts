// ProcPids tells which pids may name a new process since the previous look, so scans of /proc can keep what they
// learnt of the processes still there: a process started between two looks is fresh, one older than both is not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { ProcPids, readProcStats, statFields } from '../../src/node/runtime/proc-pids.ts';

test('a process started since the previous look is fresh; one that was there before is not', async () => {
  const proc = new ProcPids();
  const first = await proc.look();
  assert.ok(first.pids.includes(process.pid), 'this process is listed');
  assert.ok(first.fresh(process.pid), 'at the first look every pid is fresh');
  const child = spawn('sleep', ['30'], { stdio: 'ignore' });
  try {
    const second = await proc.look();
    assert.ok(second.pids.includes(child.pid!), 'the new process is listed');
    assert.ok(second.fresh(child.pid!), 'the process started since is fresh');
    assert.not.ok(second.fresh(process.pid), 'this process, older than both looks, is not');
    const third = await proc.look();
    assert.not.ok(third.fresh(child.pid!), 'nor is the child at the next look');
  } finally {
    child.kill('SIGKILL');
  }
});

test('readProcStats reads each pid\'s stat in order, undefined for one gone, and lets the loop turn between batches', async () => {
  const gone = spawn('true');
  await new Promise((r) => gone.once('exit', r));
  const pids = [process.pid, gone.pid!, ...Array.from({ length: 70 }, () => process.pid)];
  let turns = 0, done = false;
  const tick = () => { turns++; if (!done) setImmediate(tick); };
  setImmediate(tick);
  const texts = await readProcStats(pids);
  done = true;
  assert.is(texts.length, pids.length);
  const ours = (f?: string[]) => f?.[1] === String(process.ppid); // this process's parent: its own stat
  assert.ok(ours(texts[0]), String(texts[0]));
  assert.is(texts[1], undefined, 'a reaped process has no /proc entry');
  assert.ok(texts.slice(2).every(ours));
  assert.ok(turns >= 2, `the loop turned between the batches of 32 (${turns} turns while 72 files were read)`);
});

test('statFields: the fields after a command name that holds spaces and parentheses', () => {
  assert.equal(statFields('42 (a) (b c) S 1 42 42 0').slice(0, 3), ['S', '1', '42']);
});

test.run();
