// Preloaded into serve by the memory benches (`node --expose-gc --import <this>`): on SIGUSR2, a full garbage
// collection, then process.memoryUsage() and V8's heap spaces written as JSON to $CONVERGIT_MEMORY_PROBE (and, with
// $CONVERGIT_MEMORY_SNAPSHOT set, a heap snapshot beside it). What stays after a collection is what serve keeps;
// the peak (VmHWM) minus it is what a burst of work allocated for a moment.
import { renameSync, writeFileSync } from 'node:fs';
import v8 from 'node:v8';

const out = process.env.CONVERGIT_MEMORY_PROBE;
if (out) {
  let n = 0;
  process.on('SIGUSR2', () => {
    globalThis.gc?.();
    const spaces = Object.fromEntries(v8.getHeapSpaceStatistics().map((s) => [s.space_name, { used: s.space_used_size, committed: s.space_size, physical: s.physical_space_size }]));
    const snapshot = process.env.CONVERGIT_MEMORY_SNAPSHOT ? v8.writeHeapSnapshot(`${out}.${++n}.heapsnapshot`) : undefined;
    writeFileSync(`${out}.tmp`, JSON.stringify({ ...process.memoryUsage(), spaces, snapshot }));
    renameSync(`${out}.tmp`, out); // whole or not at all: the bench polls for the file
  });
}
