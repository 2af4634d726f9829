// A controller with many keys queued lets the event loop in while it works through them: the API (HTTP, timers)
// is served during a cascade of 1,000 deletions, not after it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runController, type ControllerContext } from '../../src/controllers/controller.ts';

test('a long queue of syncs yields to the event loop before it is done', async () => {
  const total = 300;
  let synced = 0;
  const busy = (ms: number) => { const end = performance.now() + ms; while (performance.now() < end); };
  const ctx = { store: undefined, informer: () => { throw new Error('no informer'); }, now: () => new Date(), log: () => {} } as unknown as ControllerContext;
  const running = runController({
    name: '',
    kinds: [],
    watch: () => {},
    initialKeys: () => Array.from({ length: total }, (_, i) => `default/k${i}`),
    // A store call resolves without real I/O: only microtasks, as in the real controllers.
    sync: async () => { busy(0.5); await Promise.resolve(); synced++; },
  }, ctx);
  const seenByTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(synced), 0));
  assert.ok(seenByTimer < total, `a timer ran only after all ${total} syncs`);
  assert.ok(seenByTimer > 0, 'syncs started');
  while (synced < total) await new Promise((r) => setTimeout(r, 5));
  await running.stop();
  assert.is(synced, total);
});

test.run();
