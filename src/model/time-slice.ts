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

  /**
   * The turn of the loop that waiters of an over slice wait for: one for all of them, so that work waiting side by
   * side (reads under way together) resumes into one new slice rather than each into one of its own.
   */
  private turn?: Promise<void>;

  /** Resolves in a later turn of the event loop (after its I/O), a new slice starting then. */
  next(): Promise<void> {
    return (this.turn ??= new Promise<void>((resolve) => setImmediate(() => {
      this.turn = undefined;
      this.since = performance.now();
      resolve();
    })));
  }

  /**
   * Turns of the loop while this slice is over (those waiting with this one may have used the new slice up), else
   * nothing. Where many wait at once, check `while (slice.over) await slice.next()` right before the work instead:
   * this is an async call, after which the others resume before the work.
   */
  async yield(): Promise<void> {
    while (this.over) await this.next();
  }
}
