import v8 from 'node:v8';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';

export interface YoungGenerationOptions {
  /** Event loop utilisation over a window above which it counts as busy. */
  busyAbove?: number;
  windowMs?: number;
  /** Busy windows in a row before V8 may grow the young generation: churn, not the tail of a start or a commit. */
  busyWindows?: number;
}

/**
 * V8 grows its young generation (to 2 × 16 MB) once enough survives its collections, and gives it back only after a
 * long idle: a commit now and then grew it for good (mem10k: 32 MB of a 280 MB serve). Under pod churn a small
 * one costs GET latency (objects promoted early, more full collections: docs/engine.md, "Memory"). So V8 may grow
 * it only while the event loop stays busy (more than half of each of 3 one-second windows: churn), not for a commit's
 * burst; what it grew to stays. Returns a stop that gives V8's own growth back.
 */
export function governYoungGeneration(opts: YoungGenerationOptions = {}): () => void {
  const busyAbove = opts.busyAbove ?? 0.5, windowMs = opts.windowMs ?? 1000, busyWindows = opts.busyWindows ?? 3;
  let grow = false, inARow = 0;
  const set = () => v8.setFlagsFromString(`--semi-space-growth-factor=${grow ? 2 : 1}`);
  // Every new isolate's heap set-up raises the process-wide factor back to 2: set again.
  const onWorker = (w: Worker) => { w.once('online', set); w.once('exit', set); };
  set();
  process.on('worker', onWorker);
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    inARow = performance.eventLoopUtilization(now, last).utilization > busyAbove ? inARow + 1 : 0;
    last = now;
    if ((inARow >= busyWindows) !== grow) { grow = !grow; set(); }
  }, windowMs);
  timer.unref();
  return () => {
    clearInterval(timer);
    process.off('worker', onWorker);
    grow = true;
    set();
  };
}
