import { performance } from 'node:perf_hooks';

/**
 * Calls `each` every `windowMs` with the share of that window the event loop was busy (0 to 1): how serve tells a
 * burst of work from quiet. The timer is unref'd (it keeps no process alive); clear it to stop.
 */
export function everyLoopWindow(windowMs: number, each: (busy: number) => void): NodeJS.Timeout {
  let last = performance.eventLoopUtilization();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    each(busy);
  }, windowMs);
  return timer.unref();
}
