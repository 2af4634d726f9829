// Long work on the one thread (a 30,000-item list, a record of 10,000 pod changes, a cold read of 10,000 blobs)
// gives the event loop back every few ms, so that requests, watches and timers are answered meanwhile.

/** A slice of the event loop's time: `over` once it has run `ms`; `next()` lets the loop turn and starts another. */
export class TimeSlice {
  private since = performance.now();

  constructor(private readonly ms: number) {}

  /** This slice has had its time. Read it where the work can stop (a clock read costs ~0.1 µs). */
  get over(): boolean {
    return performance.now() - this.since >= this.ms;
  }

  /** Resolves in a later turn of the event loop (after its I/O), a new slice starting then. */
  async next(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.since = performance.now();
  }

  /** next() if this slice is over, else nothing: `if (slice.over) await slice.next()` where a loop must stay synchronous. */
  async yield(): Promise<void> {
    if (this.over) await this.next();
  }
}
