import v8 from 'node:v8';
import { performance } from 'node:perf_hooks';
import { reapplyAsWorkersStart } from './worker-flags.ts';

export interface YoungGenerationOptions {
  /** Event loop utilisation over a window above which it counts as busy. */
  busyAbove?: number;
  windowMs?: number;
  /** Busy windows in a row before V8 may grow the young generation (a commit's burst is a fraction of one). */
  busyWindows?: number;
}

/**
 * V8 grows its young generation (to 2 × 16 MB) once enough survives its collections, and gives it back only after a
 * long idle: a commit now and then grew it for good (mem10k: 32 MB of a 280 MB serve). Under pod churn a small
 * one costs GET latency (objects promoted early, more full collections: docs/engine.md, "Memory"). So V8 may grow
 * it only while the event loop is busy (more than half of the last one-second window: churn), not for a commit's
 * burst (a fraction of a window); what it grew to stays. Returns a stop that gives V8's own growth back.
 */
export function governYoungGeneration(opts: YoungGenerationOptions = {}): () => void {
  const busyAbove = opts.busyAbove ?? 0.5, windowMs = opts.windowMs ?? 1000, busyWindows = opts.busyWindows ?? 1;
  let grow = false, inARow = 0;
  // Busy: 4, so that it reaches V8's 16 MB semi-spaces in one resize instead of two (churn waits for it).
  const set = () => v8.setFlagsFromString(`--semi-space-growth-factor=${grow ? 4 : 1}`);
  set();
  const stopWatching = reapplyAsWorkersStart(set); // a Worker's heap set-up puts it back to 2
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    inARow = performance.eventLoopUtilization(now, last).utilization > busyAbove ? inARow + 1 : 0;
    last = now;
    grow = inARow >= busyWindows;
    set(); // every window: a worker that started before this watched (during the start-up hold) is covered too
  }, windowMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    stopWatching();
    grow = true;
    set();
  };
}
