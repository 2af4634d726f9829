// The contract every controller follows, and the loop that runs one: informer handlers enqueue keys, workers
// take keys from a deduplicating queue and call sync(key), which reads caches and writes the store.
import type { Store } from '../store/store.ts';
import type { Informer } from '../store/informer.ts';
import { StoreError } from '../store/store.ts';
import { WorkQueue, type WorkQueueOptions } from './workqueue.ts';
import { keyOf } from '../model/key.ts';
import { TimeSlice } from '../model/time-slice.ts';

export interface ControllerContext {
  store: Store;
  /** The shared, started informer for a kind (the manager creates one per kind). */
  informer(kind: string): Informer;
  now(): Date;
  log(msg: string): void;
}

export type SyncResult = void | { requeueAfterMs: number };

export interface ControllerSpec {
  name: string;
  /** Kinds whose informers it needs (started and synced before the first sync). */
  kinds: string[];
  /**
   * Registers informer handlers; they only call enqueue(key) with keys like `namespace/name`, or enqueue(key, ms)
   * for a key that may wait that long (of several waits for one key the earliest wins; see WorkQueue.addAfter).
   */
  watch(ctx: ControllerContext, enqueue: (key: string, afterMs?: number) => void): void;
  /** Idempotent, level-triggered. Throwing requeues the key with backoff (and logs); a result may ask for a timed requeue. */
  sync(key: string, ctx: ControllerContext): Promise<SyncResult>;
  /** Keys to sync at start. Default: `namespace/name` of every cached object of the primary kind, kinds[0]. */
  initialKeys?(ctx: ControllerContext): string[];
}

export interface RunOptions extends WorkQueueOptions {
  /** Keys synced in parallel (never the same key twice at once). Default 1. */
  workers?: number;
}

export interface RunningController {
  readonly queue: WorkQueue;
  /** Whether its workers still take keys (false once stopped, or if a worker died): its /healthz check. */
  readonly running: boolean;
  /** Stops taking keys and resolves once the syncs in flight have finished. */
  stop(): Promise<void>;
}

/** Continuous syncing a worker does before it lets the event loop serve I/O (HTTP requests, timers). */
const YIELD_AFTER_MS = 10;

/** Starts a controller whose informers are already started: registers its handlers, enqueues its objects, runs workers. */
export function runController(spec: ControllerSpec, ctx: ControllerContext, opts: RunOptions = {}): RunningController {
  const queue = new WorkQueue({ name: spec.name, ...opts });
  spec.watch(ctx, (key, afterMs) => (afterMs ? queue.addAfter(key, afterMs) : queue.add(key)));
  const initial = spec.initialKeys ? spec.initialKeys(ctx) : ctx.informer(spec.kinds[0]).list().map(keyOf);
  for (const key of initial) queue.add(key);

  const worker = async () => {
    const slice = new TimeSlice(YIELD_AFTER_MS);
    for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
      // Store calls resolve without real I/O, so a queue of 1,000 keys (a cascade deleting 1,000 pods) would run
      // as one unbroken chain of microtasks: the API could answer nothing until it ends. Let I/O in now and then.
      if (slice.over) await slice.next();
      try {
        const result = await spec.sync(key, ctx);
        queue.forget(key);
        if (result) queue.addAfter(key, result.requeueAfterMs);
      } catch (err) {
        // A conflict only means the cache was behind a write: retry quietly; anything else is worth a line.
        if (!(err instanceof StoreError && err.reason === 'Conflict')) {
          ctx.log(`${spec.name}: sync ${key} failed (retry ${queue.numRequeues(key) + 1}): ${(err as Error)?.message ?? err}`);
        }
        queue.addRateLimited(key);
      } finally {
        queue.done(key);
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, opts.workers ?? 1) }, worker);
  let alive = workers.length;
  for (const w of workers) void w.catch(() => {}).finally(() => alive--);

  return {
    queue,
    get running() { return alive === workers.length; },
    async stop() {
      queue.shutDown();
      await Promise.all(workers);
    },
  };
}
