// Kubernetes Events: how one is built, how repeats are recognised, and which is oldest when the bound is hit.
import { randomBytes } from 'node:crypto';
import type { KubeObject, ObjectRef } from '../model/object.ts';
import { compareText } from '../model/compare-text.ts';

export type EventType = 'Normal' | 'Warning';

/** Events that describe the same happening share this key; a repeat bumps count instead of adding an Event. */
export function foldKey(involved: ObjectRef, type: string, reason: string, message: string): string {
  // NUL-separated (a JSON array of them cost twice as much, at every Event); Kubernetes names and kinds hold none,
  // and upstream's aggregator joins its fields with no separator at all.
  return `${involved.uid ?? ''}\0${involved.kind}\0${involved.namespace ?? ''}\0${involved.name}\0${type}\0${reason}\0${message}`;
}

const foldKeyOf = (ev: KubeObject) =>
  foldKey((ev.involvedObject ?? { kind: '', name: '' }) as ObjectRef, String(ev.type), String(ev.reason), String(ev.message));

/** Random bytes drawn 4 KiB at a time: one crypto call per 512 Events instead of one each (a pod's few Events
 * each paid a randomBytes call, ~5% of a hollow pod's cost). */
let pool = Buffer.alloc(0), used = 0;
function randomHex8(): string {
  if (used + 8 > pool.length) {
    pool = randomBytes(4096);
    used = 0;
  }
  used += 8;
  return pool.toString('hex', used - 8, used);
}

export function newEvent(involved: ObjectRef, type: EventType, reason: string, message: string, timestamp: string): KubeObject {
  const ref: ObjectRef = { kind: involved.kind, name: involved.name };
  if (involved.apiVersion) ref.apiVersion = involved.apiVersion;
  if (involved.namespace) ref.namespace = involved.namespace;
  if (involved.uid) ref.uid = involved.uid;
  return {
    apiVersion: 'v1',
    kind: 'Event',
    // Kubernetes names events `<object>.<hex>`; random hex rather than a timestamp so a fake clock cannot collide.
    metadata: { name: `${involved.name}.${randomHex8()}`, namespace: involved.namespace || 'default' },
    involvedObject: ref,
    type,
    reason,
    message,
    count: 1,
    firstTimestamp: timestamp,
    lastTimestamp: timestamp,
    source: { component: 'convergit' },
  };
}

/** Where a stored Event is. */
export interface EventAt { namespace: string; name: string }
const at = (ev: KubeObject): EventAt => ({ namespace: ev.metadata.namespace ?? 'default', name: ev.metadata.name });
const idOf = (a: EventAt) => `${a.namespace}/${a.name}`;

/**
 * Stored Events in order of lastTimestamp (a Map keeps insertion order; a repeat moves to the end), and by fold key.
 * The store feeds it every Event it writes or deletes, whoever wrote it, so it never goes stale.
 */
export class EventIndex {
  private order = new Map<string, EventAt>();
  private byFold = new Map<string, EventAt>();

  get size(): number {
    return this.order.size;
  }

  /** Rebuilds the order from stored Events, oldest lastTimestamp first. */
  load(events: KubeObject[]): void {
    const ts = (e: KubeObject) => String(e.lastTimestamp ?? '');
    for (const ev of [...events].sort((a, b) => compareText(ts(a), ts(b)))) this.put(ev);
  }

  find(key: string): EventAt | undefined {
    return this.byFold.get(key);
  }

  put(ev: KubeObject): void {
    const a = at(ev);
    this.order.delete(idOf(a));
    this.order.set(idOf(a), a);
    this.byFold.set(foldKeyOf(ev), a);
  }

  remove(ev: KubeObject): void {
    const a = at(ev);
    this.order.delete(idOf(a));
    const key = foldKeyOf(ev);
    const f = this.byFold.get(key);
    if (f && idOf(f) === idOf(a)) this.byFold.delete(key);
  }

  oldest(): EventAt | undefined {
    return this.order.values().next().value;
  }
}
