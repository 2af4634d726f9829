// V8's code cache of the bundle (bin/run-bundle.js): a command that runs long writes it once its start has run, so
// the next start finds compiled what this one compiled. A no-op when convergit runs from build/ or src/.
const hook = Symbol.for('convergit.saveCodeCache');

/** Writes the cache after `delayMs` (not in the way of what the start set going), if this run needs one. */
export function saveCodeCacheSoon(delayMs: number): void {
  const save = (globalThis as Record<symbol, (() => void) | undefined>)[hook];
  if (save) setTimeout(save, delayMs).unref();
}
