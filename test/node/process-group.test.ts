// Waiting for many process groups at once (`convergit stop` of 100 process pods) must not exhaust file descriptors:
// every wait reads /proc, and reads that fail with EMFILE made live groups look gone (and failed stop's own writes).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';

const GROUPS = 40;

test('40 live groups waited on at once under a 200-descriptor limit: none is reported gone', () => {
  if (process.platform !== 'linux') return;
  const sleepers = Array.from({ length: GROUPS }, () => spawn('sleep', ['30'], { detached: true, stdio: 'ignore' }));
  try {
    const module = new URL('../../src/node/runtime/process-group.ts', import.meta.url).pathname;
    const script = `const { groupGone } = await import(${JSON.stringify(module)});
      const gone = await Promise.all(${JSON.stringify(sleepers.map((s) => s.pid))}.map((pid) => groupGone(pid, 300)));
      console.log(JSON.stringify(gone.filter(Boolean).length));`;
    // tsx as a loader, in a shell whose descriptor limit is low.
    const r = spawnSync('sh', ['-c', `ulimit -n 200 && exec "${process.execPath}" --import tsx --input-type=module -e '${script.replace(/'/g, `'\\''`)}'`], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), '0', `groups reported gone while alive: ${r.stdout}${r.stderr}`);
  } finally {
    for (const s of sleepers) process.kill(-s.pid!, 'SIGKILL');
  }
});

test.run();
