// A task asked for by many, run by one at a time: asks during a run share one run after it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { coalesced } from '../../src/node/coalesced.ts';

/** A task whose runs are counted and held open until released. */
function heldTask() {
  const log: string[] = [];
  const releases: (() => void)[] = [];
  let runs = 0;
  const task = async () => {
    const n = ++runs;
    log.push(`start ${n}`);
    await new Promise<void>((r) => releases.push(r));
    log.push(`end ${n}`);
  };
  const releaseNext = async () => {
    while (!releases.length) await new Promise((r) => setImmediate(r));
    releases.shift()!();
  };
  return { task, log, releaseNext, runs: () => runs };
}

test('asks during a run share one run after it, begun only once the first has ended', async () => {
  const t = heldTask();
  const run = coalesced(t.task);
  const first = run();
  const later = Array.from({ length: 5 }, () => run());
  assert.is(t.runs(), 1, 'one run at a time');
  await t.releaseNext();
  await first;
  await t.releaseNext();
  await Promise.all(later);
  assert.is(t.runs(), 2, 'five asks during the first run: one more run');
  assert.equal(t.log, ['start 1', 'end 1', 'start 2', 'end 2']);
  const again = run();
  assert.is(t.runs(), 3, 'an ask when nothing runs starts a run at once');
  await t.releaseNext();
  await again;
});

test('an ask resolves only after a run that began after it: what it asked about is seen', async () => {
  let state = 0;
  const seen: number[] = [];
  let release!: () => void;
  const run = coalesced(async () => {
    const at = state;
    await new Promise<void>((r) => { release = r; });
    seen.push(at);
  });
  const first = run();
  state = 1; // changed while the first run is under way, which read 0
  const second = run();
  release();
  await first;
  while (seen.length < 2) {
    await new Promise((r) => setImmediate(r));
    release();
  }
  await second;
  assert.equal(seen, [0, 1]);
});

test('a failed run rejects its askers; the next run goes on', async () => {
  let fail = true;
  const run = coalesced(async () => { if (fail) throw new Error('boom'); });
  await run().then(() => assert.unreachable('should fail'), (e) => assert.is((e as Error).message, 'boom'));
  fail = false;
  await run();
});

test('with a gap, an ask after a run waits for the gap; asks meanwhile still share that one run', async () => {
  let runs = 0;
  const run = coalesced(async () => { runs++; }, 30);
  await run();
  const asks = [run(), run(), run()];
  assert.is(runs, 1, 'not at once: the gap after the last run is not over');
  await Promise.all(asks);
  assert.is(runs, 2);
});

test.run();
