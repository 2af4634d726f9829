import v8 from 'node:v8';
import { performance } from 'node:perf_hooks';
import type { Worker } from 'node:worker_threads';

/** While serve starts: the young generation kept at its first semi-space, a full collection once the old one grew 30%. */
export const START_HEAP_FLAGS = '--semi-space-growth-factor=1 --heap-growing-percent=30';
/** V8's own values of the same two flags. */
const V8_DEFAULTS = '--semi-space-growth-factor=2 --heap-growing-percent=0';

export interface StartHeap {
  /** Serve is up: V8's defaults come back once the event loop is quiet (the start's burst is over), or after maxMs. */
  started(): void;
  /** V8's defaults now; `why`, when given, is logged. */
  stop(why?: string): void;
  readonly holding: boolean;
}

export interface StartHeapOptions {
  /** Event loop utilisation over one window under which the start counts as over. */
  quietUtilization?: number;
  windowMs?: number;
  /** Held at most this long after started(): a start that goes straight into pod churn gets V8's defaults for it. */
  maxMs?: number;
  log?: (m: string) => void;
  /** Called once V8's defaults are back (not when the hold was never taken). */
  onRelease?: () => void;
}

/**
 * A cold start of a big repository is one burst of allocation (parse, load, plan, the controllers' first pass) after
 * which most of it is garbage: V8's defaults let the heap grow to about four times what is live through it
 * (docs/engine.md, "Memory"). Held tight only until that burst is over: under pod churn the same flags cost GET
 * latency. CONVERGIT_V8_FLAGS, when set, is the user's choice for the whole run, and CONVERGIT_START_HEAP=off
 * leaves V8's defaults: then this does nothing.
 */
export function holdHeapSmallWhileStarting(opts: StartHeapOptions = {}): StartHeap {
  const quiet = opts.quietUtilization ?? 0.25, windowMs = opts.windowMs ?? 1000, maxMs = opts.maxMs ?? 10_000;
  let holding = process.env.CONVERGIT_V8_FLAGS === undefined && process.env.CONVERGIT_START_HEAP !== 'off';
  if (!holding) return { started() {}, stop() {}, holding };
  const apply = () => { if (holding) v8.setFlagsFromString(START_HEAP_FLAGS); };
  // Every new isolate's heap set-up raises the process-wide semi-space growth factor back to 2 (Heap::ConfigureHeap):
  // a Worker (the loader's parse pool) undoes it; set again once it runs, and after it ends. Its 'online' comes only
  // when the main thread, busy loading, turns its loop (170 ms at 10,000 files, in which V8 grew the young
  // generation from 8 to 32 MB): meanwhile set again at every turn (a 2 ms timer).
  const onWorker = (w: Worker) => {
    const meanwhile = setInterval(apply, 2);
    const settled = () => { clearInterval(meanwhile); apply(); };
    w.once('online', settled);
    w.once('exit', settled);
    w.once('error', settled);
  };
  apply();
  process.on('worker', onWorker);
  let timer: NodeJS.Timeout | undefined, t0 = 0;
  const release = (why?: string) => {
    clearInterval(timer);
    if (!holding) return;
    holding = false;
    process.off('worker', onWorker);
    v8.setFlagsFromString(V8_DEFAULTS);
    if (why) opts.log?.(`memory: V8's heap growth back to its defaults ${why}`);
    opts.onRelease?.();
  };
  return {
    started() {
      if (!holding || timer) return;
      let last = performance.eventLoopUtilization();
      t0 = Date.now();
      timer = setInterval(() => {
        const now = performance.eventLoopUtilization();
        const busy = performance.eventLoopUtilization(now, last).utilization;
        last = now;
        if (busy < quiet) release(`(the start's work done ${((Date.now() - t0) / 1000).toFixed(1)} s after serving)`);
        else if (Date.now() - t0 >= maxMs) release(`(${maxMs / 1000} s after serving, still busy)`);
      }, windowMs);
      timer.unref();
    },
    stop: (why) => release(why),
    get holding() { return holding; },
  };
}


