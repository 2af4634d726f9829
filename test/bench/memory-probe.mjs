// Preloaded into serve by the memory benches (NODE_OPTIONS=--import=<this>, serve-memory.ts): on SIGUSR2, V8's heap
// spaces as they are (young generation, slack), then a full garbage collection, then process.memoryUsage() and the
// heap spaces again, written as JSON to $CONVERGIT_MEMORY_PROBE (and, with $CONVERGIT_MEMORY_SNAPSHOT set, a heap
// snapshot beside it). What stays after a collection is what serve keeps; the peak (VmHWM) minus it is what a burst
// of work allocated for a moment, or what the heap keeps committed for the next one. gc is taken only when asked, and
// the flag that gives it set back at once: a flag set at start, or left set, would key serve's code cache apart (a
// cache written after it is refused by the next start, which shares the probed serve's cache file). serve's own node
// children (convergit stop, helpers) are not given the probe.
import { renameSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';

const out = process.env.CONVERGIT_MEMORY_PROBE, snapshots = Boolean(process.env.CONVERGIT_MEMORY_SNAPSHOT);
const spacesNow = () => Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { used: s.space_used_size, committed: s.space_size, physical: s.physical_space_size }]));
let gc = globalThis.gc;
/** A full collection: gc as --expose-gc gives it, from a context made while the flag is set. */
const collect = () => {
  if (!gc) {
    v8.setFlagsFromString('--expose-gc');
    gc = vm.runInNewContext('gc');
    v8.setFlagsFromString('--no-expose-gc');
  }
  gc();
};
if (out && isMainThread) {
  process.env.NODE_OPTIONS = (process.env.NODE_OPTIONS ?? '').split(' ').filter((o) => !o.endsWith('memory-probe.mjs')).join(' ');
  delete process.env.CONVERGIT_MEMORY_PROBE;
  delete process.env.CONVERGIT_MEMORY_SNAPSHOT;
  let n = 0;
  process.on('SIGUSR2', () => {
    const before = { ...process.memoryUsage(), spaces: spacesNow() };
    collect();
    const spaces = spacesNow();
    const snapshot = snapshots ? v8.writeHeapSnapshot(`${out}.${++n}.heapsnapshot`) : undefined;
    writeFileSync(`${out}.tmp`, JSON.stringify({ ...process.memoryUsage(), spaces, before, snapshot }));
    renameSync(`${out}.tmp`, out); // whole or not at all: the bench polls for the file
  });
}
