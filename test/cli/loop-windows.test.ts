// everyLoopWindow: how busy serve was over each window, by its event loop but no more than by its CPU, so that a
// burst that waited for a core (a loaded machine) does not look like more work than it is.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { everyLoopWindow } from '../../src/cli/loop-windows.ts';

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

const spin = (ms: number) => { for (const end = performance.now() + ms; performance.now() < end;); };
/** Holds the thread without using the CPU, as a thread waiting for a core does. */
const wait = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

test('a window the loop spent working counts as busy', async () => {
  const share = await shareWhile(spin);
  assert.ok(share > 0.3 && share < 0.7, `80 ms of CPU in a 200 ms window: busy ${share.toFixed(2)}`);
});

test('a window the loop spent held without CPU does not (the event loop alone said 0.4)', async () => {
  const share = await shareWhile(wait);
  assert.ok(share < 0.15, `80 ms held, no CPU, in a 200 ms window: busy ${share.toFixed(2)}`);
});

test.run();
