// sampleGroups: the cpu and memory of the process groups asked for. A process read while it was still in its parent's
// group (between the fork and its setsid, as every container's process is for a moment) is its own group's leader
// once it asks for it: the group seen at first must not hide it from every sample after.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { sampleGroups } from '../../src/node/usage-reporter.ts';
import { statFields } from '../../src/node/runtime/proc-pids.ts';
import { until } from '../support/wait.ts';

const pgrpOf = (pid: number) => Number(statFields(readFileSync(`/proc/${pid}/stat`, 'utf8'))[2]);

test('a process seen in its parent\'s group is sampled once it leads a group of its own', async () => {
  // Perl (in every Debian base) makes its own session when told, as a container's process does right after its fork.
  const child = spawn('perl', ['-MPOSIX', '-e', '<STDIN>; POSIX::setsid(); sleep 60'], { stdio: ['pipe', 'ignore', 'inherit'] });
  try {
    const pid = child.pid!;
    assert.is(pgrpOf(pid), pgrpOf(process.pid), 'the child starts in this process\'s group');
    const before = await sampleGroups(new Set([pid]));
    assert.not.ok(before.has(pid), 'not a group leader yet: nothing to sample');
    child.stdin!.write('\n');
    await until(() => pgrpOf(pid) === pid, 'the child leading its own group');
    const after = await sampleGroups(new Set([pid]));
    assert.ok(after.has(pid), 'the new leader is sampled');
    assert.ok(after.get(pid)!.memoryBytes > 0, JSON.stringify(after.get(pid)));
  } finally {
    child.kill('SIGKILL');
  }
});

test.run();
