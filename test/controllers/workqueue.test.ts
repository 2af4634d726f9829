import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { WorkQueue } from '../../src/controllers/workqueue.ts';
import { until } from '../support/wait.ts';

/** A schedule that records delays and fires only when told. */
function manualTimers() {
  const pending: { ms: number; fn: () => void; cancelled: boolean }[] = [];
  return {
    pending,
    schedule: (fn: () => void, ms: number) => {
      const t = { ms, fn, cancelled: false };
      pending.push(t);
      return () => { t.cancelled = true; };
    },
    fireAll: () => { for (const t of pending.splice(0)) if (!t.cancelled) t.fn(); },
  };
}

test('a key added twice while waiting is processed once; keys come out in order', async () => {
  const q = new WorkQueue();
  q.add('a'); q.add('b'); q.add('a');
  assert.is(q.length, 2);
  assert.is(await q.get(), 'a');
  assert.is(await q.get(), 'b');
  assert.is(q.length, 0);
});

test('a key added while being processed is processed again after done, never concurrently', async () => {
  const q = new WorkQueue();
  q.add('a');
  const first = await q.get();
  q.add('a');
  q.add('a');
  assert.is(q.length, 0, 'not handed out while in flight');
  let second: string | undefined;
  const waiting = q.get().then((k) => { second = k; });
  await Promise.resolve();
  assert.is(second, undefined, 'a second worker waits');
  q.done(first!);
  await waiting;
  assert.is(second, 'a', 'then gets it once');
  q.done('a');
  assert.is(q.length, 0);
});

test('addRateLimited backs off per key: base · 2^n up to the cap; forget resets', () => {
  const timers = manualTimers();
  const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50, schedule: timers.schedule });
  for (let i = 0; i < 4; i++) { q.addRateLimited('a'); timers.fireAll(); }
  q.addRateLimited('b');
  assert.is(q.numRequeues('a'), 4);
  q.forget('a');
  q.addRateLimited('a');
  assert.equal(timers.pending.map((t) => t.ms), [10, 10], 'b starts at base; a after forget too');
  assert.is(q.numRequeues('a'), 1);
});

test('the delays recorded: 10, 20, 40, capped at 50', () => {
  const timers = manualTimers();
  const q = new WorkQueue({ baseDelayMs: 10, maxDelayMs: 50, schedule: timers.schedule });
  const seen: number[] = [];
  for (let i = 0; i < 4; i++) { q.addRateLimited('a'); seen.push(timers.pending.at(-1)!.ms); timers.fireAll(); }
  assert.equal(seen, [10, 20, 40, 50]);
});

test('addAfter: nothing before the delay; the earliest of two delays wins; delivered once', async () => {
  const timers = manualTimers();
  const q = new WorkQueue({ schedule: timers.schedule });
  q.addAfter('a', 1000);
  q.addAfter('a', 10);
  q.addAfter('a', 500); // later than the pending 10: ignored
  assert.is(q.length, 0);
  assert.equal(timers.pending.map((t) => [t.ms, t.cancelled]), [[1000, true], [10, false]]);
  timers.fireAll();
  assert.is(q.length, 1);
  assert.is(await q.get(), 'a');
});

test('addAfter with real timers delivers the key later', async () => {
  const q = new WorkQueue();
  q.addAfter('a', 20);
  assert.is(q.length, 0);
  await until(() => q.length === 1, 'the delayed key', 2000);
});

test('shutDown: waiting and later get() resolve undefined; adds and pending delays are dropped', async () => {
  const q = new WorkQueue();
  const waiting = q.get();
  q.addAfter('later', 5);
  q.shutDown();
  assert.is(await waiting, undefined);
  q.add('x');
  assert.is(await q.get(), undefined);
  assert.is(q.length, 0);
});

test('addAfter: a delay beyond what setTimeout keeps (a yearly CronJob) waits the longest it can, not zero', async () => {
  const delays: number[] = [];
  const q = new WorkQueue({ schedule: (_fn, ms) => { delays.push(ms); return () => {}; } });
  q.addAfter('yearly', 365 * 24 * 3600_000);
  assert.equal(delays, [2 ** 31 - 1]);
  assert.is(q.length, 0);
});

test.run();
