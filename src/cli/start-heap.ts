import v8 from 'node:v8';
import { everyLoopWindow } from './loop-windows.ts';
import { reapplyAsWorkersStart } from './worker-flags.ts';

/** While serve starts: the young generation kept at its first semi-space, a full collection once the old one grew 30%. */
export const START_HEAP_FLAGS = '--semi-space-growth-factor=1 --heap-growing-percent=30';
/** V8's own values of the same two flags. */
const V8_DEFAULTS = '--semi-space-growth-factor=2 --heap-growing-percent=0';

export interface StartHeap {
  /** Serve is up: V8's defaults come back once the event loop is quiet (the start's burst is over), or after maxMs. */
  started(): void;
  /** V8's defaults now; with `why`, logged, and onRelease follows (without: serve failed). */
  stop(why?: string): void;
  readonly holding: boolean;
}

export interface StartHeapOptions {
  /** The window over which the event loop, busy under a quarter of it, counts the start as over. */
  windowMs?: number;
  /** Held at most this long after started(): a start that goes straight into pod churn gets V8's defaults for it. */
  maxMs?: number;
  log?: (m: string) => void;
  /** Called once V8's defaults are back (not when the hold was never taken, nor when serve failed). */
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
  const windowMs = opts.windowMs ?? 1000, maxMs = opts.maxMs ?? 10_000;
  let holding = process.env.CONVERGIT_V8_FLAGS === undefined && process.env.CONVERGIT_START_HEAP !== 'off';
  if (!holding) return { started() {}, stop() {}, holding };
  const apply = () => { if (holding) v8.setFlagsFromString(START_HEAP_FLAGS); };
  apply();
  const stopWatching = reapplyAsWorkersStart(apply); // a Worker's heap set-up undoes them
  let timer: NodeJS.Timeout | undefined;
  const release = (why?: string) => {
    clearInterval(timer);
    if (!holding) return;
    holding = false;
    stopWatching();
    v8.setFlagsFromString(V8_DEFAULTS);
    if (!why) return; // serve failed: nothing follows
    opts.log?.(`memory: start-up heap hold over ${why}`);
    opts.onRelease?.();
  };
  return {
    started() {
      if (!holding || timer) return;
      const t0 = Date.now();
      timer = everyLoopWindow(windowMs, (busy) => {
        if (busy < 0.25) release(`(the start's work done ${((Date.now() - t0) / 1000).toFixed(1)} s after serving)`);
        else if (Date.now() - t0 >= maxMs) release(`(${maxMs / 1000} s after serving, still busy)`);
      });
    },
    stop: (why) => release(why),
    get holding() { return holding; },
  };
}
