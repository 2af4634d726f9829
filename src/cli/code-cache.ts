// V8's code cache of the bundle (bin/run-bundle.js): a command that runs long writes it once its start has run, so
// the next start finds compiled what this one compiled. A no-op when convergit runs from build/ or src/.
import { performance } from 'node:perf_hooks';
import './v8-flags.ts'; // the code cache is written under the load's flags (withFlagsAsLoaded)

const hook = Symbol.for('convergit.saveCodeCache');
const atExitHook = Symbol.for('convergit.saveCodeCacheAtExit');
/** Serialising the cache holds the event loop ~150 ms: it waits for a second in which the loop was this idle... */
const QUIET_UTILIZATION = 0.2;
/** ...but not longer than this (a serve busy for minutes still gets its next start's cache). */
const MAX_WAIT_MS = 10 * 60_000;

/**
 * Writes the cache after `delayMs` (not in the way of what the start set going), at the first second the event loop
 * is mostly idle, so that a burst of work (a 1,000-pod rollout right after the start) is not held up by it.
 */
export function saveCodeCacheSoon(delayMs: number): void {
  const save = (globalThis as Record<symbol, (() => void) | undefined>)[hook];
  if (!save) return;
  const giveUpAt = Date.now() + delayMs + MAX_WAIT_MS;
  let last = performance.eventLoopUtilization();
  const check = () => {
    const now = performance.eventLoopUtilization();
    const busy = performance.eventLoopUtilization(now, last).utilization;
    last = now;
    if (busy <= QUIET_UTILIZATION || Date.now() >= giveUpAt) save(); // under the load's flags (bin/run-bundle.js)
    else setTimeout(check, 1000).unref();
  };
  setTimeout(() => {
    last = performance.eventLoopUtilization();
    setTimeout(check, 1000).unref();
  }, delayMs).unref();
}

/**
 * Lets the cache be written as the process exits (if it has none yet): called when a command's action starts, so
 * that a `--help`, a typo or a refused option (the start alone compiled) leaves no cache to be kept for good.
 */
export function saveCodeCacheAtExit(): void {
  (globalThis as Record<symbol, (() => void) | undefined>)[atExitHook]?.();
}
