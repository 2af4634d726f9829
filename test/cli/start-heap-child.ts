// Run by start-heap.test.ts in a process of its own (V8's flags are process-wide): holds the start-up heap policy,
// grows what it keeps (objects that survive, which is what makes V8 grow its young generation) as a first sync does,
// says the first sync is over and has a full collection made (after which V8 gives the young generation back), starts and ends
// a Worker (whose heap set-up resets V8's semi-space growth factor) and grows what it keeps again, then says serve is
// up and keeps the event loop busy or quiet (argv[2]) until the policy lets go, and grows what it keeps again. Prints
// one JSON line.
import v8 from 'node:v8';
import { Worker } from 'node:worker_threads';
import { holdHeapSmallWhileStarting } from '../../src/cli/start-heap.ts';
import { promotedGarbageShare } from './old-generation.ts';

const busy = process.argv[2] === 'busy';
const logs: string[] = [];
const young = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')!.space_size / 1024 / 1024;
const kept: unknown[] = [];
/** The largest young generation seen while `n` objects that stay alive are made, a tick at a time. */
async function grow(n: number): Promise<number> {
  let most = young();
  for (let i = 0; i < n; i++) {
    kept.push({ i, s: `object ${i}`, a: [i, i + 1] });
    if (i % 20_000 === 0) { most = Math.max(most, young()); await new Promise((r) => setImmediate(r)); }
  }
  return Math.max(most, young());
}

// argv[2] `held` or `synced` (the first sync over): ~120 MB kept alive, then bursts 100 ms apart; prints the most the
// old generation held of promoted garbage over the base, as a share of it.
if (process.argv[2] === 'held' || process.argv[2] === 'synced') {
  const held = holdHeapSmallWhileStarting();
  // The young generation held in both (the first sync's growth of it is the other test's): the old's differs, and
  // `synced` optimises for size as serve's first pass does.
  v8.setFlagsFromString('--semi-space-growth-factor=1');
  if (process.argv[2] === 'synced') held.synced();
  console.log(JSON.stringify({ old: await promotedGarbageShare({ baseObjects: 1_000_000, pauseMs: 100 }) }));
  process.exit(0);
}

const heap = holdHeapSmallWhileStarting({ windowMs: 100, maxMs: 1500, log: (m) => logs.push(m), onRelease: () => logs.push('onRelease') });
const holdingAtFirst = heap.holding;
// The first sync: what it makes lives on, and the young generation grows for it.
const whileSyncing = await grow(400_000);
kept.length = 0;
heap.synced();
// V8 gives the young generation back after its next full collection, which in serve the first pass's objects soon
// bring (the old generation held to 15% growth): here, one is asked for (the test runs this with --expose-gc), then
// short-lived objects are made, a turn at a time, until it is back.
(globalThis as { gc?: () => void }).gc!();
let junk: unknown;
for (const end = Date.now() + 10_000; young() > 4 && Date.now() < end;) {
  for (let i = 0; i < 20_000; i++) junk = { i };
  await new Promise((r) => setTimeout(r, 5));
}
void junk;
const givenBack = young();
await new Promise((resolve, reject) => new Worker('', { eval: true }).once('exit', resolve).once('error', reject));
const whileHeld = await grow(400_000);
kept.length = 0;
heap.started();
const t0 = Date.now();
// Busy: a second's worth of work each window, as a start that goes straight into churn.
while (heap.holding && Date.now() - t0 < 10_000) {
  if (busy) { const end = Date.now() + 90; while (Date.now() < end); }
  await new Promise((r) => setTimeout(r, busy ? 5 : 50));
}
const releasedAfterMs = Date.now() - t0;
const afterwards = await grow(400_000);
// A Worker started after the first pass (a later commit's parse workers): its young generation grows as V8's does.
const workerYoung = await new Promise<number>((resolve, reject) => {
  const w = new Worker(`const v8 = require('node:v8'); const kept = []; for (let i = 0; i < 400000; i++) kept.push({ i, s: 'object ' + i });
    require('node:worker_threads').parentPort.postMessage(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1024 / 1024);`, { eval: true });
  w.once('message', (m: number) => { resolve(m); void w.terminate(); }).once('error', reject);
});
// A serve that fails: stop() without a reason gives V8's defaults back, says nothing and calls no onRelease.
const failed = holdHeapSmallWhileStarting({ log: (m) => logs.push(`failed: ${m}`), onRelease: () => logs.push('failed: onRelease') });
failed.stop();
const failedStillHolding = failed.holding;
console.log(JSON.stringify({ holdingAtFirst, whileSyncing, givenBack, whileHeld, afterwards, workerYoung, releasedAfterMs, stillHolding: heap.holding, failedStillHolding, logs }));
