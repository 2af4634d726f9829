// Preloaded into serve by the memory benches (`node --expose-gc --import <this>`): on SIGUSR2, V8's heap spaces as
// they are (young generation, slack), then a full garbage collection, then process.memoryUsage() and the heap spaces
// again, written as JSON to $CONVERGIT_MEMORY_PROBE (and, with $CONVERGIT_MEMORY_SNAPSHOT set, a heap snapshot beside
// it). What stays after a collection is what serve keeps; the peak (VmHWM) minus it is what a burst of work allocated
// for a moment, or what the heap keeps committed for the next one.
import { renameSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const out = process.env.CONVERGIT_MEMORY_PROBE;
const spacesNow = () => Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { used: s.space_used_size, committed: s.space_size, physical: s.physical_space_size }]));
if (out) {
  let n = 0;
  process.on('SIGUSR2', () => {
    const before = { ...process.memoryUsage(), spaces: spacesNow() };
    globalThis.gc?.();
    const spaces = spacesNow();
    const snapshot = process.env.CONVERGIT_MEMORY_SNAPSHOT ? v8.writeHeapSnapshot(`${out}.${++n}.heapsnapshot`) : undefined;
    writeFileSync(`${out}.tmp`, JSON.stringify({ ...process.memoryUsage(), spaces, before, snapshot }));
    renameSync(`${out}.tmp`, out); // whole or not at all: the bench polls for the file
  });
}
