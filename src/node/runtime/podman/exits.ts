// Container exits, from one events stream of the podman service (`GET /events?stream=true`) for all of this runtime's
// containers (one connection, not a wait per container). A container that died before it was watched is remembered
// from the stream, or found by the listing below, so no exit is missed either way.
import type { PodmanApi } from './api.ts';

/** The listing's period at least; longer when a listing takes long (see `sweepDelay`). */
const SWEEP_MS = 3000;
/** The next listing waits this many times as long as the last took. */
const SWEEP_FACTOR = 10;
/** A listing of every container (to find one removed while its event was missed) at least this often. */
const FULL_SWEEP_MS = 60_000;

/**
 * When the next listing is due: 3 s, or ten times what the last took when that is longer. A listing costs podman
 * ~2.5 ms of CPU per container on a 2-core VM (0.5 s for 100 pods with their infra containers): every 3 s that was a
 * fifth of a core for a safety net, and during a burst of starts, when it took seconds, the service spent most of
 * its CPU on it. Bounded by its own cost, it takes at most a tenth of the service's time.
 */
export const sweepDelay = (lastMs: number): number => Math.max(SWEEP_MS, SWEEP_FACTOR * lastMs);

/**
 * The listing's filters. Podman builds a listing's entry (the costly part: state, namespaces, ports, pod) only for the
 * containers its filters keep, so the usual one asks for the dead only; a container removed from outside is in no
 * listing but a full one, taken after the stream was down (its `died` may be missed) and once a minute.
 */
export const sweepFilters = (label: string, full: boolean): Record<string, string[]> => full ? { label: [label] } : { label: [label], status: ['exited', 'stopped'] };

export class ExitWatcher {
  private stream?: { close(): void };
  private readonly waiters = new Map<string, () => void>();
  private closed = false;
  private poll?: NodeJS.Timeout;
  /** How long the last listing took (the next waits sweepDelay of it). */
  private lastSweepMs = 0;
  /** When the last full listing was taken; 0: the next is full (the stream was down). */
  private lastFullSweep = 0;

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
    this.schedule();
    if (this.stream) return;
    // since covers the moment between asking for the stream and the service's reading the events file.
    const since = new Date(Date.now() - 5000).toISOString();
    this.stream = this.api.events({ type: ['container'], event: ['died'], label: [this.label] }, since, (e: { Actor?: { Attributes?: { name?: string } } }) => {
      const name = e.Actor?.Attributes?.name;
      if (name) this.diedEvent(name);
    }, () => {
      this.stream = undefined;
      this.lastFullSweep = 0;
      // The stream ended (the service restarted, killed): a new one is opened for current waiters after a moment
      // (their deaths meanwhile: the since above, and the listing).
      if (!this.closed && this.waiters.size) setTimeout(() => this.ensure(), 500).unref();
    });
  }

  private schedule(): void {
    if (this.poll || this.closed) return;
    this.poll = setTimeout(() => {
      void this.sweep().finally(() => {
        this.poll = undefined;
        if (this.waiters.size) this.schedule();
      });
    }, sweepDelay(this.lastSweepMs));
  }

  /** Exited containers, and watched ones that are gone altogether (removed from outside, their event missed). */
  private async sweep(): Promise<void> {
    if (!this.waiters.size) return;
    const watched = [...this.waiters.keys()];
    const t0 = performance.now();
    const full = Date.now() - this.lastFullSweep >= FULL_SWEEP_MS;
    const r = await this.api.call('GET', '/containers/json', { query: { all: true, filters: sweepFilters(this.label, full) } }).catch(() => undefined);
    this.lastSweepMs = performance.now() - t0;
    if (r?.status !== 200 || !Array.isArray(r.body)) return;
    if (full) this.lastFullSweep = Date.now();
    const states = new Map((r.body as { Names: string[]; State: string }[]).flatMap((c) => c.Names.map((n) => [n, c.State] as const)));
    for (const name of watched) {
      const state = states.get(name);
      if ((full && state === undefined) || state === 'exited' || state === 'stopped') this.died(name);
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.poll);
    this.stream?.close();
    this.stream = undefined;
  }
}
