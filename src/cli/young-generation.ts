import v8 from 'node:v8';
import { everyLoopWindow } from './loop-windows.ts';
import { reapplyAsWorkersStart } from './worker-flags.ts';

/**
 * V8 grows its young generation (to 2 × 16 MB) once enough survives its collections, and gives it back only after a
 * long idle: a commit now and then grew it for good (mem10k: 32 MB of a 280 MB serve). Under pod churn a small
 * one costs GET latency (objects promoted early, more full collections: docs/engine.md, "Memory"). So V8 may grow
 * it only in the window after one in which the event loop was busy over half the time (churn), not for a commit's
 * burst (a fraction of a window); what it grew to stays.
 */
export function governYoungGeneration(windowMs = 1000): void {
  let grow = false;
  // Busy: 4, so that it reaches V8's 16 MB semi-spaces in one resize instead of two (churn waits for it).
  const set = () => v8.setFlagsFromString(`--semi-space-growth-factor=${grow ? 4 : 1}`);
  set();
  reapplyAsWorkersStart(set); // a Worker's heap set-up puts it back to 2
  everyLoopWindow(windowMs, (busy) => {
    grow = busy > 0.5;
    set(); // every window: a worker that started before this watched (during the start-up hold) is covered too
  });
}
