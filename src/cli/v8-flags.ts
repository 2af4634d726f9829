// V8 flags that serve changes after its bundle has loaded (its start-up heap hold and governor, start-heap.ts and
// heap-growth.ts; the inlining budget bin/convergit.js lowered for the start), and a way to run something with them
// as they were when the bundle was compiled: V8 refuses a code cache made under flags that hash otherwise than at its
// load, and serve writes its cache after they have changed (every start's cache was refused, and written again: the
// next start compiled everything anew).
import v8 from 'node:v8';

/**
 * The heap flags as bin/convergit.js leaves them for a serve that holds its heap (the growth factor at 1) and the
 * others this process sets put back at V8's defaults (`--optimize-for-size` implies `--max-semi-space-size=1`).
 */
const HEAP_AS_LOADED = '--semi-space-growth-factor=1 --heap-growing-percent=0 --no-optimize-for-size --max-semi-space-size=0';

/** What bin/convergit.js set V8's inlining budget to for serve's start, if it did. */
const START_INLINING = Symbol.for('convergit.startInlining');

/** Flags set since the load, by what they are for: the last of each, and that one's value at the load. */
const current = new Map<'heap' | 'inlining', { flags: string; asLoaded: string }>();

function setFlags(what: 'heap' | 'inlining', flags: string, asLoaded: string): void {
  current.set(what, { flags, asLoaded });
  v8.setFlagsFromString(flags);
}

/** Sets V8's heap flags, remembered so that withFlagsAsLoaded can put them back. */
export function setHeapFlags(flags: string): void {
  setFlags('heap', flags, HEAP_AS_LOADED);
}

/**
 * V8's own inlining budget again, once serve's start is over: bin lowered it for the start (its optimising
 * compiler's jobs took the second core), but what runs hot for hours is better compiled as V8 would.
 */
export function restoreInlining(): void {
  const start = (globalThis as Record<symbol, unknown>)[START_INLINING];
  if (typeof start === 'string') setFlags('inlining', '--max-inlined-bytecode-size-cumulative=920', start);
}

/** Runs `fn` with the flags as they were at the bundle's load, then the last ones set again (none set: as they are). */
export function withFlagsAsLoaded(fn: () => void): void {
  if (!current.size) return fn();
  for (const { asLoaded } of current.values()) v8.setFlagsFromString(asLoaded);
  try {
    fn();
  } finally {
    for (const { flags } of current.values()) v8.setFlagsFromString(flags);
  }
}
// bin/run-bundle.js writes the code cache through it, at exit too (a serve stopped before its quiet second).
(globalThis as Record<symbol, unknown>)[Symbol.for('convergit.withFlagsAsLoaded')] = withFlagsAsLoaded;
