// A deduplicating queue of keys worked one at a time: event handlers add keys, `sync(key)` does the work. One
// worker is enough here and it keeps the allocator's pools free of races. A failing sync is retried later.

export interface KeyQueueOptions {
  /** Delay before a key whose sync threw is tried again. */
  retryDelayMs: number;
  onError: (key: string, err: unknown) => void;
}

export class KeyQueue {
  private readonly pending = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private running: Promise<void> | undefined;
  private paused = true;
  private stopped = false;

  constructor(private readonly sync: (key: string) => Promise<void>, private readonly opts: KeyQueueOptions) {}

  add(key: string): void {
    if (this.stopped) return;
    this.pending.add(key);
    this.kick();
  }

  /** Keys added before start wait until then (the allocator reserves what the store holds first). */
  start(): void {
    this.paused = false;
    this.kick();
  }

  /** Resolves when nothing is pending or running: for start-up and tests. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.pending.clear();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await this.idle();
  }

  private kick(): void {
    if (this.paused || this.running || this.stopped) return;
    this.running = this.drain().finally(() => {
      this.running = undefined;
      if (this.pending.size) this.kick(); // added between the loop's last check and here
    });
  }

  private async drain(): Promise<void> {
    while (!this.stopped && this.pending.size) {
      const key: string = this.pending.values().next().value!;
      this.pending.delete(key);
      try {
        await this.sync(key);
      } catch (err) {
        this.opts.onError(key, err);
        if (this.stopped) return;
        const t = setTimeout(() => { this.timers.delete(t); this.add(key); }, this.opts.retryDelayMs);
        this.timers.add(t);
      }
    }
  }
}
