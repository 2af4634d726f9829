// V8's heap flags as serve's start-up hold and its governor set them (start-heap.ts, heap-growth.ts), and a way to
// run something with them as they were when the bundle was compiled: V8 refuses a code cache made under flags that
// hash otherwise than at its load, and serve writes its cache while the hold or the governor has changed them
// (every start's cache was refused, and written again: the next start compiled everything anew).
import v8 from 'node:v8';

/**
 * The heap flags as bin/convergit.js leaves them for a serve that holds its heap (the growth factor at 1) and the
 * others this process sets put back at V8's defaults (`--optimize-for-size` implies `--max-semi-space-size=1`).
 */
const AS_LOADED = '--semi-space-growth-factor=1 --heap-growing-percent=0 --no-optimize-for-size --max-semi-space-size=0';

let current: string | undefined;

/** Sets V8's heap flags, remembered so that withFlagsAsLoaded can put them back. */
export function setHeapFlags(flags: string): void {
  current = flags;
  v8.setFlagsFromString(flags);
}

/** Runs `fn` with the flags as they were at the bundle's load, then the last ones set again (none set: as they are). */
export function withFlagsAsLoaded(fn: () => void): void {
  if (current === undefined) return fn();
  v8.setFlagsFromString(AS_LOADED);
  try {
    fn();
  } finally {
    v8.setFlagsFromString(current);
  }
}
