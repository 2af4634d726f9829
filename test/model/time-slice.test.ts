import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { TimeSlice } from '../../src/model/time-slice.ts';

/** Busy for `ms` on the one thread, giving it back through `slice` as long work does; the turns it gave. */
async function busy(ms: number, slice?: TimeSlice): Promise<number> {
  let turns = 0;
  for (const end = performance.now() + ms; performance.now() < end;) {
    if (slice?.over) await slice.next(), turns++;
  }
  return turns;
}

test('a timer due during long work runs during it when the work goes by slices, and only after it otherwise', async () => {
  for (const sliced of [true, false]) {
    let fired = 0;
    setTimeout(() => (fired = performance.now()), 1);
    const turns = await busy(100, sliced ? new TimeSlice(5) : undefined);
    const ended = performance.now();
    await new Promise((r) => setTimeout(r, 1)); // after the first timer, due before it
    assert.ok(fired > 0, 'the timer fired');
    if (sliced) {
      assert.ok(fired < ended, 'before the work ended');
      assert.ok(turns >= 10 && turns <= 21, `about one turn each 5 ms of 100 (${turns})`);
    } else assert.ok(fired >= ended, 'after the work, which never gave the loop back');
  }
});

test('over only once the slice has run its time; next() starts a new one; yield() waits only when over', async () => {
  const slice = new TimeSlice(20);
  assert.not.ok(slice.over, 'a new slice');
  await busy(25);
  assert.ok(slice.over);
  await slice.next();
  assert.not.ok(slice.over, 'a new slice after next()');
  let later = false;
  setImmediate(() => (later = true));
  await slice.yield();
  assert.not.ok(later, 'yield() within the slice: no turn of the loop');
  await busy(25);
  await slice.yield();
  assert.ok(later, 'yield() past the slice: a turn of the loop (its setImmediate ran)');
});

test('work waiting side by side resumes into one new slice: the loop turns every slice, not once all of it is done', async () => {
  const slice = new TimeSlice(5);
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(performance.now()), 1);
  const t0 = performance.now();
  // 150 reads resumed together, each checking right before 1 ms of work, as the tree reader's batched blobs do.
  await Promise.all(Array.from({ length: 150 }, async () => {
    await Promise.resolve();
    while (slice.over) await slice.next();
    await busy(1);
  }));
  const t1 = performance.now();
  clearInterval(timer);
  const inside = [t0, ...ticks.filter((t) => t > t0 && t < t1), t1];
  const longest = Math.max(...inside.slice(1).map((t, i) => t - inside[i]));
  // With a turn for each waiter of its own, all 150 ran in one check phase: a 150 ms stretch without a timer.
  assert.ok(longest < 40, `the loop went ${longest.toFixed(0)} ms without a timer`);
});

test.run();
