// Container exits, from one events stream of the podman service (`GET /events?stream=true`) for all of this runtime's
// containers (one connection, not a wait per container). A container that died before it was watched is remembered
// from the stream, or found by the listing below, so no exit is missed either way.
import type { PodmanApi } from './api.ts';

export class ExitWatcher {
  private stream?: { close(): void };
  private readonly waiters = new Map<string, () => void>();
  private closed = false;
  private poll?: NodeJS.Timeout;

  constructor(private readonly api: PodmanApi, private readonly label: string) {}

  /** Calls `onDied` once when the container (by name) has died; `check` is asked at once too, for an early death. */
  watch(name: string, onDied: () => void): void {
    this.ensure();
    let fired = false;
    this.waiters.set(name, () => {
      if (fired) return;
      fired = true;
      this.waiters.delete(name);
      onDied();
    });
    if (this.early.delete(name)) this.died(name);
  }

  /** Fires the waiter of `name` (a death seen another way). */
  died(name: string): void {
    this.waiters.get(name)?.();
  }

  /** A death on the stream of a container not watched (yet): its start has not returned. Kept a minute. */
  private readonly early = new Map<string, number>();

  private diedEvent(name: string): void {
    if (this.waiters.has(name)) return this.died(name);
    const now = Date.now();
    for (const [n, at] of this.early) if (now - at > 60_000) this.early.delete(n);
    this.early.set(name, now);
  }

  private ensure(): void {
    if (this.closed) return;
    // A slow safety net under the stream: one listing of exited containers, while any is watched.
    this.poll ??= setInterval(() => void this.sweep(), 3000);
    if (this.stream) return;
    // since covers the moment between asking for the stream and the service's reading the events file.
    const since = new Date(Date.now() - 5000).toISOString();
    this.stream = this.api.events({ type: ['container'], event: ['died'], label: [this.label] }, since, (e: { Actor?: { Attributes?: { name?: string } } }) => {
      const name = e.Actor?.Attributes?.name;
      if (name) this.diedEvent(name);
    }, () => {
      this.stream = undefined;
      // The stream ended (the service restarted, killed): a new one is opened for current waiters after a moment
      // (their deaths meanwhile: the since above, and the listing).
      if (!this.closed && this.waiters.size) setTimeout(() => this.ensure(), 500).unref();
    });
  }

  /** Exited containers, and watched ones that are gone altogether (removed from outside, their event missed). */
  private async sweep(): Promise<void> {
    if (!this.waiters.size) return;
    const watched = [...this.waiters.keys()];
    const r = await this.api.call('GET', '/containers/json', { query: { all: true, filters: { label: [this.label] } } }).catch(() => undefined);
    if (r?.status !== 200 || !Array.isArray(r.body)) return;
    const states = new Map((r.body as { Names: string[]; State: string }[]).flatMap((c) => c.Names.map((n) => [n, c.State] as const)));
    for (const name of watched) {
      const state = states.get(name);
      if (state === undefined || state === 'exited' || state === 'stopped') this.died(name);
    }
  }

  close(): void {
    this.closed = true;
    clearInterval(this.poll);
    this.stream?.close();
    this.stream = undefined;
  }
}
