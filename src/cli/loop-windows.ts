import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

/**
 * The event loop thread's time on a CPU and waiting for one, in ms, from /proc/thread-self/schedstat (read on the
 * loop's thread); undefined where there is none (not Linux).
 */
function loopThreadTimes(): { runMs: number; waitMs: number } | undefined {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ').map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? { runMs: run / 1e6, waitMs: wait / 1e6 } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How busy the loop was over a window of `wallMs`: the share of the time it could have run that it ran (on a CPU
 * `runMs`, waiting for one `waitMs`). A burst that waited for a core (a loaded machine) is no more work for it, and a
 * loop held busy on a loaded machine still counts as busy. Time the loop spent in a callback (`utilization`) that
 * was neither run nor waited is left out as unknown: a blocking system call, or a CPU taken from the whole machine
 * (a VM's stolen time, a stopped process), which had made a loop spinning throughout look a third busy on a loaded
 * CI machine; NaN when that was most of the window. Without the thread's times, the event loop's utilisation.
 */
export function busyShare(wallMs: number, utilization: number, thread?: { runMs: number; waitMs: number }): number {
  if (!thread) return utilization;
  const unseen = Math.max(0, utilization * wallMs - thread.runMs - thread.waitMs);
  // Held in a call (or robbed of the CPU) for most of the window: too little seen to say. NaN is neither busy nor quiet
  // to the callers (heap-growth.ts, start-heap.ts).
  if (unseen > wallMs * 0.75) return NaN;
  const could = wallMs - thread.waitMs - unseen;
  return could > 0 ? Math.min(1, Math.max(0, thread.runMs / could)) : 1;
}

/**
 * Calls `each` every `windowMs` with the share of that window serve's loop was busy (0 to 1, or NaN: busyShare): how serve
 * tells a burst of work from quiet. The timer is unref'd (it keeps no process alive); clear it to stop.
 */
export function everyLoopWindow(windowMs: number, each: (busy: number) => void): NodeJS.Timeout {
  let last = performance.eventLoopUtilization();
  let lastThread = loopThreadTimes();
  const timer = setInterval(() => {
    const now = performance.eventLoopUtilization(), thread = loopThreadTimes();
    const window = performance.eventLoopUtilization(now, last);
    const delta = thread && lastThread && { runMs: thread.runMs - lastThread.runMs, waitMs: thread.waitMs - lastThread.waitMs };
    last = now;
    lastThread = thread;
    each(busyShare(window.idle + window.active, window.utilization, delta));
  }, windowMs);
  return timer.unref();
}
