// Worker threads that load files on their own (load-manifests.ts storedFileOf), for a load with thousands of files
// to parse: YAML parsing and schema checks of 10,000 files were seconds on the one thread. Started for one load and
// ended after it (each holds its own parser, kinds and validators: memory a long-running serve need not keep).
// Files are added as they come (a cold read hands each blob over as it is read, so the parsing overlaps the reading).
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { moduleWorker } from '../model/module-worker.ts';
import type { ManifestFile } from './types.ts';

/** Files sent to a worker at a time: few messages, and work left to share when one worker is slower. */
const BATCH = 100;
/**
 * Batches a worker holds at once: the next is already there when it finishes one, so it does not wait for the
 * main thread (busy reading blobs or the live state) to take its answer before it has more to do.
 */
const AHEAD = 8;
/** Batches a worker may hold once the main thread loads files too (take()): one to work on, the next already there. */
const AHEAD_SHARED = 2;


/**
 * Calls `done(file, json)` with the StoredFile JSON of every file added, in no particular order. `close()` resolves
 * once all are done; it rejects if a worker fails (the caller's load then parses what is left itself).
 */
export class ParsePool {
  private readonly queue: ManifestFile[] = [];
  private readonly workers: { worker: Worker; sent: ManifestFile[][] }[] = [];
  private closed = false;
  private failed?: Error;
  private settle!: { resolve: () => void; reject: (e: Error) => void };
  private readonly finished = new Promise<void>((resolve, reject) => { this.settle = { resolve, reject }; });

  /** Batches a worker may hold at once: AHEAD, then AHEAD_SHARED once the main thread takes files too. */
  private ahead = AHEAD;

  /**
   * `files`: how many are coming, when known (no more workers than batches); `spare`: cores left to the main
   * thread. Throws if a worker cannot be made.
   */
  constructor(maxAliases: number, strict: boolean, private readonly done: (file: ManifestFile, json: string) => void, opts: { files?: number; spare?: number } = {}) {
    this.finished.catch(() => {}); // reported by close()
    const width = Math.max(1, Math.min(availableParallelism() - (opts.spare ?? 0), Math.ceil((opts.files ?? Infinity) / BATCH), 4));
    for (let i = 0; i < width; i++) {
      let worker: Worker;
      try {
        worker = moduleWorker(import.meta.url, 'parse-worker', { workerData: { maxAliases, strict } });
      } catch (e) {
        this.abort();
        throw e;
      }
      const entry = { worker, sent: [] as ManifestFile[][] };
      this.workers.push(entry);
      entry.worker.on('message', (out: string[]) => {
        const batch = entry.sent.shift()!;
        out.forEach((json, k) => this.done(batch[k], json));
        this.pump();
      });
      entry.worker.on('error', (e) => this.fail(e));
      entry.worker.on('exit', (code) => this.fail(new Error(`parse worker exited with ${code}`))); // after close(): nothing
    }
  }

  add(file: ManifestFile): void {
    if (this.closed) throw new Error('internal error: a file added to a closed parse pool');
    this.queue.push(file);
    if (this.queue.length >= BATCH) this.pump();
  }

  /**
   * A file no worker has been sent, for the main thread to load itself (its done() is then never called), or
   * undefined. From then on a worker is sent a batch only while it holds fewer than AHEAD_SHARED (what it held
   * before drains first), so that what the workers hold when the queue runs out is short: the main thread would
   * wait for it.
   */
  take(): ManifestFile | undefined {
    this.ahead = AHEAD_SHARED;
    return this.failed ? undefined : this.queue.pop();
  }

  /** No more files: resolves when every file added is done, then ends the workers. */
  async close(): Promise<void> {
    this.closed = true;
    this.pump();
    try {
      await this.finished;
    } finally {
      this.abort();
    }
  }

  /** Ends the workers now, whatever they hold (the load they were for failed). */
  abort(): void {
    this.closed = true;
    this.failed ??= new Error('parse pool aborted');
    this.settle.reject(this.failed); // nothing once resolved
    for (const { worker } of this.workers) void worker.terminate();
  }

  /** Full batches to workers with room; once closed, what is left too; resolves when nothing is left anywhere. */
  private pump(): void {
    if (this.failed) return;
    while (this.queue.length >= BATCH || (this.closed && this.queue.length)) {
      // One batch at a time to the worker holding the fewest.
      const entry = this.workers.reduce((a, b) => (b.sent.length < a.sent.length ? b : a));
      if (entry.sent.length >= this.ahead) break;
      const batch = this.queue.splice(0, BATCH);
      entry.sent.push(batch);
      entry.worker.postMessage(batch.map((f) => ({ path: f.path, content: f.content, oid: f.oid })));
    }
    if (this.closed && !this.queue.length && this.workers.every((w) => !w.sent.length)) this.settle.resolve();
  }

  private fail(e: Error): void {
    if (this.failed || (this.closed && this.workers.every((w) => !w.sent.length))) return;
    this.failed = e;
    this.settle.reject(e);
  }
}
