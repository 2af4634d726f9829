import v8 from 'node:v8';
import { everyLoopWindow } from './loop-windows.ts';
import { reapplyAsWorkersStart } from './worker-flags.ts';

/** Windows in a row the event loop must be busy over half the time before V8 may grow the young generation. */
const BUSY_IN_A_ROW = 2;

/**
 * V8 grows its young generation (to 2 × 16 MB) once enough survives its collections, and gives it back only after a
 * long idle: a commit now and then grew it for good (mem10k: 32 MB of a 280 MB serve). Under pod churn a small
 * one costs GET latency (objects promoted early, more full collections: docs/engine.md, "Memory"). So V8 may grow
 * it only after two windows in a row in which the event loop was busy over half the time (churn), not for a
 * commit's burst (a 10,000-object serve's first commit, ~0.4 s on a slow day, had grown it); what it grew to stays.
 */
export function governYoungGeneration(windowMs = 500): void {
  let inARow = 0;
  // Busy: 4, so that it reaches V8's 16 MB semi-spaces in one resize instead of two (churn waits for it).
  const set = () => v8.setFlagsFromString(`--semi-space-growth-factor=${inARow >= BUSY_IN_A_ROW ? 4 : 1}`);
  set();
  reapplyAsWorkersStart(set); // a Worker's heap set-up puts it back to 2
  everyLoopWindow(windowMs, (busy) => {
    inARow = busy > 0.5 ? inARow + 1 : 0;
    set(); // every window: a worker that started before this watched (during the start-up hold) is covered too
  });
}
