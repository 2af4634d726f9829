// A timer's delay (src/node/timer-delay.ts: a stop's SIGKILL, a preStop sleep): as asked, but never past what a timer can wait,
// which node would fire at once.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { timerDelayMs } from '../../src/node/timer-delay.ts';

test('the grace as it is, none below 0, and at most 2^31 - 1 ms', () => {
  assert.is(timerDelayMs(30_000), 30_000);
  assert.is(timerDelayMs(-5), 0);
  assert.is(timerDelayMs(0), 0);
  assert.is(timerDelayMs(40 * 86_400_000), 2 ** 31 - 1); // a grace of 40 days
});

test('node would fire the longer delay at once: the clamped one it does not', async () => {
  const fired: string[] = [];
  const warn = process.emitWarning;
  process.emitWarning = () => {}; // node's TimeoutOverflowWarning, expected here
  try {
    const clamped = setTimeout(() => fired.push('clamped'), timerDelayMs(40 * 86_400_000));
    await new Promise<void>((r) => setTimeout(() => { fired.push('unclamped'); r(); }, 40 * 86_400_000));
    clearTimeout(clamped);
  } finally {
    process.emitWarning = warn;
  }
  assert.equal(fired, ['unclamped']);
});

test.run();
