// The front's replica (front-worker.ts), fed from the store: the objects clients have read through the front (at
// most limits.frontObjects, the one read longest ago dropped first: kept again at its next read), as their JSON texts,
// each sent again whenever it changes. Sent as soon as the code that changed it yields (a microtask: before a writer
// awaiting the change goes on), and before the main thread writes any answer (a watch event is written within the
// change), so the front never serves an object older than one a writer has finished or the main thread has shown.
// Only what clients read is sent.
import { receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { persistedJson } from '../model/stored-json.ts';
import type { KubeObject } from '../model/object.ts';
import type { Store, WatchEvent } from '../store/store.ts';
import { replicaKey, type FeedMessage, type HitsMessage } from './front-protocol.ts';

const keyOf = (o: KubeObject) => replicaKey(o.kind, o.metadata.namespace ?? '', o.metadata.name);

export class ReplicaFeed {
  /** The keys the front keeps, the one read longest ago first, each with the version last sent (0: none yet). */
  private kept = new Map<string, number>();
  /** What to send: an object's new state, or null for one the front no longer keeps (deleted or dropped). */
  private pending = new Map<string, KubeObject | null>();
  private scheduled = false;
  private stops: (() => void)[] = [];
  private beat?: NodeJS.Timeout;

  /** `beatMs`: how often the main thread says it is alive (a front that hears nothing for a while sends health checks to it). */
  constructor(private readonly store: Store, private readonly kinds: readonly string[], private port: MessagePort | undefined, private readonly beatMs: number, private readonly maxKept: number) {}

  async start(): Promise<void> {
    const onChange = (e: WatchEvent) => {
      if (!this.kept.size) return; // nothing read yet: a 30,000-pod run's writes cost no key each
      const key = keyOf(e.object);
      if (!this.kept.has(key)) return;
      if (e.type === 'DELETED') {
        this.kept.delete(key);
        this.add(key, null);
      } else this.offer(e.object);
    };
    for (const kind of this.kinds) this.stops.push(await this.store.watch({ kind, shared: true }, onChange));
    this.beat = setInterval(() => { this.beatNow(); this.takeHits(); }, this.beatMs).unref();
    this.beatNow();
  }

  /** The main thread is alive: said every beatMs (a front that hears nothing for a while sends health checks to it). */
  private beatNow(): void {
    this.port?.postMessage({ beat: Date.now() } satisfies FeedMessage);
  }

  /**
   * Sends to a new front from now on, or to none (the last one ended, the next not started): it keeps nothing yet, so
   * nothing is kept for it.
   */
  sendTo(port: MessagePort | undefined): void {
    if (port === this.port) return;
    this.port = port;
    this.kept.clear();
    this.pending.clear();
    if (this.beat) this.beatNow();
  }

  /**
   * A client is about to read this object through the main thread, and the front asked to keep it: from now on (before
   * the read, so that no change between the read and offer() goes unseen) its changes are sent.
   */
  want(kind: string, namespace: string, name: string): void {
    const key = replicaKey(kind, namespace, name);
    if (this.kept.has(key)) return;
    if (this.kept.size >= this.maxKept) this.takeHits(); // before this key is added: it is the one read last
    this.kept.set(key, 0);
    if (this.kept.size <= this.maxKept) return;
    const [oldest, sent] = this.kept.entries().next().value!;
    this.kept.delete(oldest);
    if (sent) this.add(oldest, null);
  }

  /**
   * What the front answered since (HitsMessage): each such key becomes the one read last. Taken before one is dropped,
   * and with each heartbeat (so they do not pile up).
   */
  private takeHits(): void {
    if (!this.port) return;
    for (let m = receiveMessageOnPort(this.port); m; m = receiveMessageOnPort(this.port)) {
      for (const key of (m.message as HitsMessage).hits) {
        const sent = this.kept.get(key);
        if (sent === undefined) continue;
        this.kept.delete(key);
        this.kept.set(key, sent);
      }
    }
  }

  /** The object as read, for a wanted key: sent unless a change sent since is newer (or it was deleted meanwhile). */
  offer(o: KubeObject): void {
    const key = keyOf(o), rv = Number(o.metadata.resourceVersion), sent = this.kept.get(key);
    if (sent === undefined || sent >= rv) return;
    this.kept.set(key, rv);
    this.add(key, o);
  }

  /** A wanted key whose object was not found: kept no more, unless something was sent for it meanwhile. */
  unwant(kind: string, namespace: string, name: string): void {
    const key = replicaKey(kind, namespace, name);
    if (this.kept.get(key) === 0) this.kept.delete(key);
  }

  private add(key: string, o: KubeObject | null): void {
    this.pending.set(key, o);
    if (!this.scheduled) {
      this.scheduled = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** Sends what changed since the last send (a no-op when nothing did). */
  flush(): void {
    this.scheduled = false;
    if (!this.port) this.pending.clear(); // no front now: the next keeps nothing
    if (!this.pending.size) return;
    const changes: (string | null)[] = [];
    for (const [key, o] of this.pending) changes.push(key, o && persistedJson(o));
    this.pending.clear();
    this.port!.postMessage({ changes } satisfies FeedMessage);
  }

  stop(): void {
    for (const s of this.stops) s();
    this.stops = [];
    clearInterval(this.beat);
    this.pending.clear();
    this.kept.clear();
  }
}
