// Preloaded into serve by the memory benches (NODE_OPTIONS=--import=<this>, serve-memory.ts): on SIGUSR2, V8's heap
// spaces as they are (young generation, slack), then a full garbage collection, then process.memoryUsage() and the
// heap spaces again, written as JSON to $CONVERGIT_MEMORY_PROBE (and, with $CONVERGIT_MEMORY_SNAPSHOT set, a heap
// snapshot beside it). What stays after a collection is what serve keeps; the peak (VmHWM) minus it is what a burst
// of work allocated for a moment, or what the heap keeps committed for the next one. gc is exposed only when asked
// (a flag set at start would key serve's code cache apart); the main thread only (workers get no signals).
import { renameSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';
import vm from 'node:vm';
import { isMainThread } from 'node:worker_threads';

const out = process.env.CONVERGIT_MEMORY_PROBE;
const spacesNow = () => Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { used: s.space_used_size, committed: s.space_size, physical: s.physical_space_size }]));
/** A full collection: gc as --expose-gc gives it, from a context made once the flag is set. */
const collect = () => {
  if (typeof globalThis.gc === 'function') return globalThis.gc();
  v8.setFlagsFromString('--expose-gc');
  vm.runInNewContext('gc')();
};
if (out && isMainThread) {
  let n = 0;
  process.on('SIGUSR2', () => {
    const before = { ...process.memoryUsage(), spaces: spacesNow() };
    collect();
    const spaces = spacesNow();
    const snapshot = process.env.CONVERGIT_MEMORY_SNAPSHOT ? v8.writeHeapSnapshot(`${out}.${++n}.heapsnapshot`) : undefined;
    writeFileSync(`${out}.tmp`, JSON.stringify({ ...process.memoryUsage(), spaces, before, snapshot }));
    renameSync(`${out}.tmp`, out); // whole or not at all: the bench polls for the file
  });
}
