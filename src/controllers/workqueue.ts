// A Kubernetes-style work queue (client-go's rate-limited delaying queue): keys, not events, so a burst of changes
// to one object is one sync; a key is never handed to two workers at once; failures back off per key.
import { workqueueMetrics as metrics } from '../model/metrics-registry.ts';

export interface WorkQueueOptions {
  /** First retry delay of addRateLimited; doubles per consecutive failure. Default 5 ms, as client-go. */
  baseDelayMs?: number;
  /** Ceiling of the retry delay. Default 300 000 ms (client-go's 1000 s is longer than anyone waits). */
  maxDelayMs?: number;
  /** Runs `fn` after `ms` and returns a cancel function. Default: setTimeout; tests pass their own to see the delays. */
  schedule?: (fn: () => void, ms: number) => () => void;
  /** Named queues are measured as client-go's (workqueue_depth{name}, …); unnamed ones are not. */
  name?: string;
}

/** The longest delay setTimeout keeps. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

const viaSetTimeout = (fn: () => void, ms: number) => {
  const t = setTimeout(fn, ms);
  return () => clearTimeout(t);
};

const seconds = (since: bigint) => Number(process.hrtime.bigint() - since) / 1e9;

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
  private readonly name?: string;
  /** When each waiting key was added, and when each key in processing was handed out (for the metrics). */
  private readonly addedAt = new Map<string, bigint>();
  private readonly startedAt = new Map<string, bigint>();

  constructor(opts: WorkQueueOptions = {}) {
    this.baseDelayMs = opts.baseDelayMs ?? 5;
    this.maxDelayMs = opts.maxDelayMs ?? 300_000;
    this.schedule = opts.schedule ?? viaSetTimeout;
    this.name = opts.name;
  }

  /** Marks the key for processing; a key already waiting is not added twice. */
  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.name) {
      metrics.adds.inc({ name: this.name });
      metrics.depth.inc({ name: this.name });
      if (!this.addedAt.has(key)) this.addedAt.set(key, process.hrtime.bigint());
    }
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
    if (this.name) metrics.retries.inc({ name: this.name });
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
    const started = this.startedAt.get(key);
    if (this.name && started !== undefined) {
      this.startedAt.delete(key);
      metrics.workDuration.observe({ name: this.name }, seconds(started));
    }
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
    if (this.name) {
      metrics.depth.dec({ name: this.name });
      const added = this.addedAt.get(key);
      this.addedAt.delete(key);
      if (added !== undefined) metrics.queueDuration.observe({ name: this.name }, seconds(added));
      this.startedAt.set(key, process.hrtime.bigint());
    }
    return key;
  }

  private dispatch(): void {
    while (this.waiters.length && this.queue.length) this.waiters.shift()!(this.take());
  }
}
