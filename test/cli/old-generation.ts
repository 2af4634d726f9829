// What the old generation holds of promoted garbage, for the heap policies' tests (heap-growth, start-heap; each in
// a child process, run with --expose-gc): a live base, then bursts whose objects live three bursts (long enough to
// be promoted, then garbage in the old generation: what a commit leaves).
import v8 from 'node:v8';

const oldUsed = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')!.space_used_size;

/**
 * `baseObjects` kept alive (~120 bytes each), `settleMs` waited (the flags a policy sets meanwhile then rule the
 * full collection that follows, and the next one's limit), then 40 bursts `pauseMs` apart, or with `busyMs` bursts
 * back to back (a turn of the loop between) for that long: the most the old generation held over the live base, as
 * a share of it; or, with `enough`, as soon as that share is past it.
 */
export async function promotedGarbageShare(opts: { baseObjects: number; settleMs?: number; pauseMs?: number; busyMs?: number; enough?: number }): Promise<number> {
  const base = Array.from({ length: opts.baseObjects }, (_, i) => ({ i, s: `kept ${i}`, a: [i] }));
  if (opts.settleMs) await new Promise((r) => setTimeout(r, opts.settleMs));
  (globalThis as { gc?: () => void }).gc!();
  const live = oldUsed();
  let most = live;
  const recent: unknown[][] = [];
  const t0 = performance.now();
  for (let t = 0; opts.busyMs ? performance.now() - t0 < opts.busyMs : t < 40; t++) {
    recent.push(Array.from({ length: 20_000 }, (_, i) => ({ i, s: `short ${i}`, a: [i, t] })));
    if (recent.length > 3) recent.shift();
    most = Math.max(most, oldUsed());
    if (opts.enough !== undefined && (most - live) / live > opts.enough) break;
    await new Promise((r) => (opts.busyMs ? setImmediate(r) : setTimeout(r, opts.pauseMs ?? 100)));
  }
  if (base.length !== opts.baseObjects) throw new Error('base lost'); // kept alive to the end
  return (most - live) / live;
}
