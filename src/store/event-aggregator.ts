// client-go's EventAggregator (tools/record/events_cache.go), the part of the EventCorrelator that keeps one
// object's similar events from flooding the store: events of one involved object, type and reason that differ only
// in their message are "similar"; from the 10th distinct message within 10 minutes on, they are folded into one
// Event, "(combined from similar events): <latest message>", whose count grows instead of a new Event each time
// (a ReplicaSet's "Created pod: …" for every pod it creates, say). Identical events are folded by the store itself.
import type { ObjectRef } from '../model/object.ts';
import type { EventAt } from './events.ts';

/** Upstream's defaultAggregateMaxEvents, defaultAggregateIntervalInSeconds and maxLruCacheEntries. */
export const AGGREGATE_MAX_EVENTS = 10;
export const AGGREGATE_INTERVAL_MS = 600_000;
const MAX_RECORDS = 4096;
/** Evicted at once when the cache is full (see observe). */
const EVICTED_AT_ONCE = 410;
export const COMBINED_PREFIX = '(combined from similar events): ';

export interface AggregateRecord {
  messages: Set<string>;
  lastMs: number;
  /** Where the combined Event is stored, once there is one. */
  combined?: EventAt;
}

export class EventAggregator {
  private records = new Map<string, AggregateRecord>();

  /**
   * Records one event; undefined while it is to be stored as it is, else the combined message and the record,
   * whose `combined` says which Event to bump (the caller sets it when it creates one).
   */
  observe(involved: ObjectRef, type: string, reason: string, message: string, nowMs: number): { message: string; record: AggregateRecord } | undefined {
    // NUL-separated (upstream joins them with no separator): Kubernetes names and kinds hold none.
    const key = `${involved.uid ?? ''}\0${involved.kind}\0${involved.namespace ?? ''}\0${involved.name}\0${involved.apiVersion ?? ''}\0${type}\0${reason}`;
    const found = this.records.get(key);
    const record: AggregateRecord = found && nowMs - found.lastMs <= AGGREGATE_INTERVAL_MS ? found : { messages: new Set(), lastMs: nowMs };
    record.messages.add(message);
    record.lastMs = nowMs;
    // Least recently used last, as upstream's LRU cache: the oldest records go when the cache is full, a tenth at a
    // time. (Reading a Map's first entry walks every entry deleted since the Map last grew: one at each Event, with
    // each new object's Events evicting another, cost ~3 µs an Event at 4,096 records.)
    this.records.delete(key);
    this.records.set(key, record);
    if (this.records.size > MAX_RECORDS) {
      let evict = EVICTED_AT_ONCE;
      for (const old of this.records.keys()) {
        if (evict-- <= 0) break;
        this.records.delete(old);
      }
    }
    if (record.messages.size < AGGREGATE_MAX_EVENTS) return undefined;
    // The set never grows past the threshold (upstream's PopAny): the next distinct message is combined too.
    record.messages.delete(record.messages.values().next().value!);
    return { message: COMBINED_PREFIX + message, record };
  }
}
