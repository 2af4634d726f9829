// serve's code cache is written at a quiet moment: not while the event loop is busy (serialising it holds the loop
// ~150 ms, which a 1,000-pod rollout right after the start would feel), and soon once the loop is idle.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { saveCodeCacheSoon } from '../../src/cli/code-cache.ts';
import { until } from '../support/wait.ts';

const hook = Symbol.for('convergit.saveCodeCache');

test('waits while the loop is busy, then saves once it is idle', async () => {
  let saved = 0;
  (globalThis as Record<symbol, unknown>)[hook] = () => saved++;
  try {
    saveCodeCacheSoon(0);
    // Busy: turns of 40 ms of work back to back for 2.5 s (two and more of its one-second looks).
    const busyUntil = Date.now() + 2500;
    await new Promise<void>((done) => {
      const turn = () => {
        const end = Date.now() + 40;
        while (Date.now() < end) { /* work */ }
        if (Date.now() < busyUntil) setImmediate(turn); else done();
      };
      turn();
    });
    assert.is(saved, 0, 'not saved while the loop was busy');
    await until(() => saved > 0, 'the save once the loop is idle', 5000);
    assert.is(saved, 1);
  } finally {
    delete (globalThis as Record<symbol, unknown>)[hook];
  }
});

test('without the bundle runner (serve from build/ or src/) it does nothing', () => {
  assert.not.throws(() => saveCodeCacheSoon(0));
});

test.run();
