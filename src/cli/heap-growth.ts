import { everyLoopWindow } from './loop-windows.ts';
import { START_HEAP_FLAGS } from './start-heap.ts';
import { reapplyAsWorkersStart } from './worker-flags.ts';
import { setHeapFlags } from './v8-flags.ts';

/** Windows in a row the event loop must be busy over half the time (loop-windows.ts) before V8 may grow the heap its own way. */
const BUSY_IN_A_ROW = 2;
/**
 * Busy: V8's own old-generation growth, and a semi-space growth factor of 16 rather than V8's 2, so that the young
 * generation goes from its first 1 MB semi-spaces to V8's largest, 16 MB, in one resize (V8 caps what it grows to at
 * that largest size) instead of four: churn waits for it.
 */
const BUSY_FLAGS = '--semi-space-growth-factor=16 --heap-growing-percent=0';

/**
 * Once serve has started (start-heap.ts), the heap is held as tight as in its first pass except under churn. V8 grows
 * its young generation (to 2 × 16 MB) once enough survives its collections and gives it back only after a long
 * idle, and lets the old generation grow to several times what is live before it collects it: a commit now and then
 * grew the young generation for good (mem10k: 32 MB of a 280 MB serve), and a few commits' garbage took the
 * 10,000-object serve from 243 to 262–272 MB. Under pod churn the same tight heap costs GET latency (objects
 * promoted early, more full collections: docs/engine.md, "Memory"). So V8 has its way only after two windows in a
 * row in which the event loop was busy over half the time (churn), not for a commit's burst (a 10,000-object serve's
 * first commit, ~0.4 s on a slow day, had grown the young generation); what the young generation grew to stays.
 * `onWindow` hears, after each window, whether V8 now has its way (tests: a loaded machine can make quiet bursts look
 * like churn).
 */
export function governHeapGrowth(windowMs = 500, onWindow?: (churn: boolean) => void): void {
  let inARow = 0;
  const set = () => setHeapFlags(inARow >= BUSY_IN_A_ROW ? BUSY_FLAGS : START_HEAP_FLAGS);
  set();
  reapplyAsWorkersStart(set); // a Worker's heap set-up puts the growth factor back to 2
  everyLoopWindow(windowMs, (busy) => {
    inARow = busy > 0.5 ? inARow + 1 : 0;
    set(); // every window: a worker that started before this watched (during the start-up hold) is covered too
    onWindow?.(inARow >= BUSY_IN_A_ROW);
  });
}
