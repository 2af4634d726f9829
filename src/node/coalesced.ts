// A task asked for by many, run by one: at most one run at a time, and the asks that come during a run share a
// single run after it, begun no sooner than `gapMs` after the end of the one before. 1,000 pods finishing in a burst
// then cost a few runs of a whole-store task, not 1,000.

/** `run()` resolves once a run of `task` that began after the call has ended (its failure is the task's to handle). */
export function coalesced(task: () => Promise<void>, gapMs = 0): () => Promise<void> {
  let current: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  let lastEnd = -Infinity;
  const start = (): Promise<void> => {
    current = task().finally(() => {
      current = undefined;
      lastEnd = Date.now();
    });
    return current;
  };
  const later = async (): Promise<void> => {
    await current?.catch(() => {});
    const wait = lastEnd + gapMs - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    next = undefined;
    return start();
  };
  return () => {
    if (!current && !next && Date.now() >= lastEnd + gapMs) return start();
    // One run after the current one (or the gap) serves everyone who asks meanwhile.
    next ??= later();
    return next;
  };
}
