// Watchers and a bounded history of changes, so a watcher can resume from a resourceVersion.
import { jsonCopy } from '../model/json-copy.ts';
import { isNamespaced } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';
import { matchesRequirements } from '../model/selector.ts';
import { StoreError, type WatchEvent, type WatchEventType, type WatchOptions } from './store.ts';

/** One committed change. `object` is the state after it (for DELETED: the last state, with the deletion's version). */
export interface Change {
  rv: number;
  type: WatchEventType;
  object: KubeObject;
  /** The state before a MODIFIED, to tell a watcher when an object enters or leaves its label selector. */
  prev?: KubeObject;
}

interface Watcher {
  opts: WatchOptions;
  handler: (e: WatchEvent) => void;
  /** The last change this watcher has seen or skipped; guards against duplicates when replay and live overlap. */
  seen: number;
}

export class WatchHub {
  private ring: Change[] = [];
  private start = 0; // index of the oldest change in ring once it is full
  /** Changes after this version are all in the ring. */
  private floor: number;
  /** Watchers of every kind. */
  private watchers = new Set<Watcher>();
  /** Watchers with opts.kind, by that kind: a Pod change is not offered to the Service informers of a thousand nodes. */
  private byKind = new Map<string, Set<Watcher>>();
  /** Watchers with opts.nodeName, by that name: offered only the changes of objects on (or leaving) their node. */
  private byNode = new Map<string, Set<Watcher>>();
  private queue: Change[] = [];
  private draining = false;

  constructor(
    private readonly capacity: number,
    currentRv: number,
    private readonly onError: (err: unknown) => void,
  ) {
    this.floor = currentRv;
  }

  /** Records a change and delivers it to every matching watcher, in version order even when a handler writes. */
  publish(c: Change): void {
    if (this.capacity > 0) {
      if (this.ring.length < this.capacity) this.ring.push(c);
      else {
        this.floor = this.ring[this.start].rv;
        this.ring[this.start] = c;
        this.start = (this.start + 1) % this.capacity;
      }
    } else this.floor = c.rv;
    this.queue.push(c);
    this.drain();
  }

  /** Registers a watcher and replays the kept history after opts.resourceVersion, if given. */
  watch(opts: WatchOptions, handler: (e: WatchEvent) => void, currentRv: number): () => void {
    let seen = currentRv;
    if (opts.resourceVersion !== undefined) {
      const from = Number(opts.resourceVersion);
      if (!/^\d+$/.test(opts.resourceVersion)) throw new StoreError('Invalid', `invalid resourceVersion "${opts.resourceVersion}"`);
      if (from > currentRv) throw new StoreError('Invalid', `resourceVersion ${from} is newer than the store's ${currentRv}`);
      if (from < this.floor) throw new StoreError('Gone', `resourceVersion ${from} is too old: history starts after ${this.floor}`);
      seen = from;
    }
    const w: Watcher = { opts, handler, seen };
    const set = opts.nodeName !== undefined ? (this.byNode.get(opts.nodeName) ?? this.byNode.set(opts.nodeName, new Set()).get(opts.nodeName)!)
      : opts.kind !== undefined ? (this.byKind.get(opts.kind) ?? this.byKind.set(opts.kind, new Set()).get(opts.kind)!)
        : this.watchers;
    set.add(w);
    if (seen < currentRv) for (const c of this.history()) this.deliver(w, c);
    return () => { set.delete(w); };
  }

  stopAll(): void {
    this.watchers.clear();
    this.byKind.clear();
    this.byNode.clear();
  }

  private *history(): Iterable<Change> {
    for (let i = 0; i < this.ring.length; i++) yield this.ring[(this.start + i) % this.ring.length];
  }

  private drain(): void {
    if (this.draining) return; // a handler wrote: the outer loop delivers it after the current change
    this.draining = true;
    let i = 0;
    try {
      // A Set's iteration skips watchers removed meanwhile, and one added meanwhile has seen this change already
      // (its `seen` starts at the store's version), so no copy of the set is made per change.
      for (; i < this.queue.length; i++) {
        const c = this.queue[i];
        for (const w of this.watchers) this.deliver(w, c);
        const ofKind = this.byKind.get(c.object.kind);
        if (ofKind) for (const w of ofKind) this.deliver(w, c);
        const now = c.object.spec?.nodeName, before = c.prev?.spec?.nodeName;
        const at = typeof now === 'string' ? this.byNode.get(now) : undefined;
        if (at) for (const w of at) this.deliver(w, c);
        const left = now !== before && typeof before === 'string' ? this.byNode.get(before) : undefined;
        if (left) for (const w of left) this.deliver(w, c);
      }
    } finally {
      this.queue.splice(0, i); // delivered (all, unless something threw: the rest go with the next change)
      this.draining = false;
    }
  }

  private deliver(w: Watcher, c: Change): void {
    if (c.rv <= w.seen) return;
    w.seen = c.rv;
    const e = eventFor(w.opts, c);
    if (!e) return;
    try {
      w.handler(e);
    } catch (err) {
      this.onError(err); // one broken handler must not starve the others
    }
  }
}

/** What a watcher with these options sees of a change, as the Kubernetes watch cache does for label selectors. */
function eventFor(opts: WatchOptions, c: Change): WatchEvent | undefined {
  const o = c.object;
  if (opts.kind !== undefined && o.kind !== opts.kind) return undefined;
  // As in list, a namespace does not filter out cluster-scoped kinds.
  if (opts.namespace !== undefined && isNamespaced(o.kind) && o.metadata.namespace !== opts.namespace) return undefined;
  // Called for every change and watcher (tens of times a pod write): no closure is made per call.
  const now = matches(opts, o);
  if (c.type !== 'MODIFIED' || !c.prev) return now ? { type: c.type, object: out(opts, o) } : undefined;
  const before = matches(opts, c.prev);
  if (now) return { type: before ? 'MODIFIED' : 'ADDED', object: out(opts, o) };
  if (!before) return undefined;
  // Left the selector: a DELETED with the content the watcher last matched, at this change's version.
  return { type: 'DELETED', object: out(opts, { ...c.prev, metadata: { ...c.prev.metadata, resourceVersion: String(c.rv) } }) };
}

const NO_REQUIREMENTS: readonly [] = [];
const matches = (opts: WatchOptions, x: KubeObject) =>
  matchesRequirements(opts.labelSelector ?? NO_REQUIREMENTS, x.metadata.labels) && (opts.nodeName === undefined || x.spec?.nodeName === opts.nodeName) && (!opts.match || opts.match(x));
// Shared: the stored object itself (stored objects are never changed in place, only replaced), so a change
// offered to many informers is not copied once per watcher.
const out = (opts: WatchOptions, x: KubeObject) => (opts.shared ? x : jsonCopy(x));
