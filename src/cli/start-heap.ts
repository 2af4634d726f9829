import v8 from 'node:v8';
import { everyLoopWindow } from './loop-windows.ts';
import { reapplyAsWorkersStart } from './worker-flags.ts';
import { setHeapFlags } from './v8-flags.ts';

/** Held: the young generation kept at the semi-space it has, a full collection once the old one grew 30%. */
export const START_HEAP_FLAGS = '--semi-space-growth-factor=1 --heap-growing-percent=30';
/**
 * While serve starts, to the first sync's outcome: the young generation grows as V8 grows it (what the first sync
 * makes, 10,000 parsed manifests and the store's copies, lives on: at a 1 MB semi-space each object was copied twice
 * through ~900 scavenges, a third of the time to Synced); the old generation as held.
 */
const FIRST_SYNC_FLAGS = '--semi-space-growth-factor=2 --heap-growing-percent=30';
/**
 * From the first sync's end to the end of the hold: the controllers' first pass (at 10,000 objects 3,333 ReplicaSets,
 * the Services' Endpoints and slices, the load cache's write), whose live objects and garbage made serve's peak. A
 * full collection once the old generation grew 15%: mem10k's peak 217 and 218 MB instead of 228 and 233 (after 6
 * commits 232 and 230 instead of 244 and 240), for ~1–2 s more CPU in that pass. The young generation is held, and
 * what the first sync grew of it given back: V8 shrinks it only after a full collection of a heap optimising for size
 * (or at a low allocation rate, which this pass is not), and the pass's objects soon bring one. To the hold's end, for
 * a pass ~15% slower: optimising for size only until the young generation was back at 4 MB left serve's rss ~12 MB
 * higher through the commits after (scale10k: 249 MB against 232).
 */
const FIRST_PASS_FLAGS = '--semi-space-growth-factor=1 --heap-growing-percent=15 --optimize-for-size';
/**
 * V8's own values of the same flags. `--optimize-for-size` also set `--max-semi-space-size=1` (V8's implication, which
 * `--no-optimize-for-size` does not undo): every Worker started after it would have had 1 MB semi-spaces for good.
 */
const V8_DEFAULTS = '--semi-space-growth-factor=2 --heap-growing-percent=0 --no-optimize-for-size --max-semi-space-size=0';

export interface StartHeap {
  /** Serve is up: V8's defaults come back once the event loop is quiet (the start's burst is over), or after maxMs. */
  started(): void;
  /** The first sync is over: the controllers' first pass follows, the start's peak. */
  synced(): void;
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
  if (!holding) return { started() {}, synced() {}, stop() {}, holding };
  let flags = FIRST_SYNC_FLAGS;
  const apply = () => { if (holding) setHeapFlags(flags); };
  apply();
  const stopWatching = reapplyAsWorkersStart(apply); // a Worker's heap set-up undoes them
  let timer: NodeJS.Timeout | undefined;
  const release = (why?: string) => {
    clearInterval(timer);
    if (!holding) return;
    holding = false;
    stopWatching();
    setHeapFlags(V8_DEFAULTS);
    if (!why) return; // serve failed: nothing follows
    opts.log?.(`memory: start-up heap hold over ${why}`);
    opts.onRelease?.();
  };
  return {
    synced() {
      // What the first sync grew the young generation to, said before the first pass's collections give it back.
      const young = v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space')?.space_size ?? 0;
      if (holding) opts.log?.(`memory: young generation ${(young / 2 ** 20).toFixed(0)} MB after the first sync`);
      flags = FIRST_PASS_FLAGS;
      apply();
    },
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
