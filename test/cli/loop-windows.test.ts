// everyLoopWindow: how busy serve's loop was over each window, by the share of the time it could have run that it
// ran (its thread's time on a CPU and waiting for one), so that a burst that waited for a core on a loaded machine
// does not look like more work than it is, and a loop held busy there still looks busy.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { busyShare, everyLoopWindow } from '../../src/cli/loop-windows.ts';

test('busyShare: the time run over the time the thread could run', () => {
  assert.is(busyShare(200, 0.4, { runMs: 80, waitMs: 0 }), 0.4, 'ran 80 of 200 ms, never waited');
  assert.is(busyShare(200, 0.9, { runMs: 90, waitMs: 100 }), 0.9, 'a 90 ms burst that waited 90 ms for a core: no more than 90 of the 100 ms it could run');
  assert.is(busyShare(200, 1, { runMs: 100, waitMs: 100 }), 1, 'busy the whole time it had a core (a loaded machine): busy');
  assert.is(busyShare(200, 0.4, { runMs: 0, waitMs: 0 }), 0, 'held without a CPU (blocked): not busy');
  assert.is(busyShare(200, 0.3), 0.3, 'without the thread\'s times: the event loop\'s utilisation');
  assert.is(busyShare(200, 1, { runMs: 60, waitMs: 0 }), 1, 'in a callback all along, 140 ms neither run nor waited (CPU taken from the machine): busy');
  assert.is(busyShare(200, 0.5, { runMs: 50, waitMs: 0 }), 50 / 150, 'ran 50, held 50 in a call (unseen), idle 100: 50 of the 150 ms seen');
  assert.ok(Number.isNaN(busyShare(200, 1, { runMs: 0, waitMs: 0 })), 'held in a call the whole window: unknown, neither busy nor quiet');
  assert.ok(Number.isNaN(busyShare(200, 1, { runMs: 10, waitMs: 0 })), 'held 95% of it: a ratio of two small numbers would be noise');
  assert.is(busyShare(200, 1, { runMs: 0, waitMs: 200 }), 1, 'waited for a core the whole window: busy');
});

/** The busy share of the first whole window in which `block` ran once, for 80 ms of a 200 ms window. */
async function shareWhile(block: (ms: number) => void): Promise<number> {
  const shares: number[] = [];
  await new Promise<void>((resolve) => {
    let windows = 0;
    const timer = everyLoopWindow(200, (busy) => {
      shares.push(busy);
      if (++windows === 1) setTimeout(() => block(80), 20); // inside the second window
      if (windows === 2) { clearInterval(timer); resolve(); }
    });
    timer.ref();
  });
  return shares[1];
}

/** Works for `ms` of CPU (not of the wall clock: on a loaded machine part of it waits for a core). */
const spin = (ms: number) => {
  const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
  for (const end = cpu() + ms; cpu() < end;);
};
/** Holds the thread without using the CPU, as a blocking system call does. */
const wait = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
const linux = process.platform === 'linux';

test('a window the loop spent working counts as busy, whatever it waited for a core', async () => {
  const share = await shareWhile(spin);
  assert.ok(share > 0.3, `80 ms of CPU in a 200 ms window: busy ${share.toFixed(2)}`);
});

test('a window the loop spent held without a CPU does not (the event loop\'s utilisation alone said 0.4)', async () => {
  if (!linux) return;
  const share = await shareWhile(wait);
  assert.ok(share < 0.15, `80 ms held, no CPU, in a 200 ms window: busy ${share.toFixed(2)}`);
});

test('a loop spinning throughout counts as busy when its process is stopped meanwhile (a VM\'s CPU taken away)', async () => {
  if (!linux) return;
  // The child spins in 10 ms callbacks (its timers still fire) and prints its first two windows' shares (of 1 s: a
  // stop of half a second is at most half of one, where a busy share is still said).
  const script = `
    import { everyLoopWindow } from ${JSON.stringify(new URL('../../src/cli/loop-windows.ts', import.meta.url).pathname)};
    const shares = [];
    const timer = everyLoopWindow(1000, (b) => { shares.push(b); if (shares.length === 2) { console.log(JSON.stringify(shares)); process.exit(0); } });
    timer.ref();
    const slice = () => { for (const end = performance.now() + 10; performance.now() < end;); setImmediate(slice); };
    slice();
    console.error('spinning');`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => { out += d; });
  let err = '';
  await new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d) => { err += d; if (err.includes('spinning')) resolve(); });
    child.once('exit', () => reject(new Error(`the child exited before spinning: ${err}`)));
  });
  // Stopped for 500 ms in its first window: neither on a CPU nor waiting for one, as when a VM's CPU is stolen.
  child.kill('SIGSTOP');
  await new Promise((r) => setTimeout(r, 500));
  child.kill('SIGCONT');
  await new Promise((r) => child.once('exit', r));
  assert.ok(out, `the child printed no shares: ${err}`);
  const shares = JSON.parse(out) as number[];
  // Before: the stopped time counted as time it could have run, ~500 of 1,000 ms: half busy.
  assert.ok(Math.min(...shares) > 0.8, `busy shares ${shares.map((x) => x.toFixed(2)).join(', ')}`);
});

test.run();
