// A Kubernetes-style work queue (client-go's rate-limited delaying queue): keys, not events, so a burst of changes
// to one object is one sync; a key is never handed to two workers at once; failures back off per key.

export interface WorkQueueOptions {
  /** First retry delay of addRateLimited; doubles per consecutive failure. Default 5 ms, as client-go. */
  baseDelayMs?: number;
  /** Ceiling of the retry delay. Default 300 000 ms (client-go's 1000 s is longer than anyone waits). */
  maxDelayMs?: number;
  /** Runs `fn` after `ms` and returns a cancel function. Default: setTimeout; tests pass their own to see the delays. */
  schedule?: (fn: () => void, ms: number) => () => void;
}

/** The longest delay setTimeout keeps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const viaSetTimeout = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

export class WorkQueue {
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly schedule: NonNullable<WorkQueueOptions['schedule']>;
  /** Keys waiting to be handed out, in order. */
  private readonly queue: string[] = [];
  /** Keys that need processing: waiting in `queue`, or added again while being processed. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly timers = new Map<string, { at: number; cancel: () => void }>();
  private readonly failures = new Map<string, number>();
  private shuttingDown = false;

  constructor(opts: WorkQueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 300_000;
    this.schedule = opts.schedule ?? viaSetTimeout;
  }

  /** Marks the key for processing; a key already waiting is not added twice. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return; // done() puts it back, so it is never processed concurrently
    this.queue.push(key);
    this.dispatch();
  }

  /** Adds the key after `ms`; of several pending delays for one key, the earliest wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) return this.add(key);
    // setTimeout fires at once past 2^31-1 ms (24.8 days): wait that long at most; the sync then asks again.
    ms = Math.min(ms, MAX_TIMER_MS);
    const at = Date.now() + ms;
    const pending = this.timers.get(key);
    if (pending && pending.at <= at) return;
    pending?.cancel();
    const cancel = this.schedule(() => {
      this.timers.delete(key);
      this.add(key);
    }, ms);
    this.timers.set(key, { at, cancel });
  }

  /** Adds the key after its backoff: baseDelayMs · 2^(failures so far), capped at maxDelayMs. */
  addRateLimited(key: string): void {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    this.addAfter(key, Math.min(this.baseDelayMs * 2 ** n, this.maxDelayMs));
  }

  /** Consecutive failures recorded for the key. */
  numRequeues(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** Resets the key's backoff, after a successful sync. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** The next key to process (call done(key) after); undefined once the queue is shut down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.take();
    if (key !== undefined) return Promise.resolve(key);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Ends processing of the key; if it was added meanwhile, it waits again. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key) && !this.shuttingDown) {
      this.queue.push(key);
      this.dispatch();
    }
  }

  /** Stops handing out keys (waiting get() calls resolve undefined) and drops pending delays. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const { cancel } of this.timers.values()) cancel();
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  /** Keys waiting to be handed out (not those being processed or delayed). */
  get length(): number {
    return this.queue.length;
  }

  private take(): string | undefined {
    const key = this.queue.shift();
    if (key === undefined) return undefined;
    this.dirty.delete(key);
    this.processing.add(key);
    return key;
  }

  private dispatch(): void {
    while (this.waiters.length && this.queue.length) this.waiters.shift()!(this.take());
  }
}
