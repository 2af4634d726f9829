// The Store kept in memory (indexed) and persisted to <dataDir>/state.json and state.journal through lowdb
// (persist.ts): each write costs what changed.
// Every operation runs synchronously between its awaits, so each one is atomic with respect to the others.
import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { isNamespaced } from '../model/kinds.ts';
import type { KubeObject, ObjectRef } from '../model/object.ts';
import { displayName as describe } from '../model/key.ts';
import { carryAllocated } from '../model/allocated.ts';
import { graceFor, type DeleteOptions } from '../model/graceful.ts';
import { EventAggregator } from './event-aggregator.ts';
import { EventIndex, foldKey, newEvent, type EventType } from './events.ts';
import { ObjectIndex } from './indexes.ts';
import { journalOf, loadState, Persister, stateOf, type LoadedState } from './persist.ts';
import { JournalWriter } from './journal.ts';
import { StoreError, type UpdateOptions, type WriteOptions, type ListOptions, type PodBinding, type Store, type WatchEvent, type WatchEventType, type WatchOptions } from './store.ts';
import { WatchHub } from './watch-hub.ts';
import { VersionLease } from './version-lease.ts';
import { isoSeconds } from '../model/time.ts';
import { jsonCopy, jsonCopySharingFrozen } from '../model/json-copy.ts';
import { deepFreeze } from '../model/deep-freeze.ts';
import type { Admission, AdmissionContext } from '../model/admission.ts';
import { intern } from '../model/intern.ts';

export interface StoreOptions {
  /** Changes within this many ms are written together. Default 20. */
  flushDelay?: number;
  /** The journal is compacted into a new state.json once larger than state.json and than this. Default 4 MiB. */
  journalMin?: number;
  /** Events kept; beyond it the oldest by lastTimestamp are deleted. Default 1000. */
  maxEvents?: number;
  /** Changes kept for watches that resume from a resourceVersion. Default 1000. */
  watchHistory?: number;
  now?: () => Date;
  /**
   * Mutating admission, run on every create and update of an object (as the API server runs its admission plugins,
   * e.g. DefaultTolerationSeconds on Pods); each returns the object to store. The context tells create from update
   * and reads stored objects (a pod's ServiceAccount).
   */
  admit?: Admission[];
  /** Failed background writes and throwing watch handlers. Default: console.error. */
  onError?: (err: unknown) => void;
  /**
   * Deep-freezes every stored object, so a reader that changes a shared object (informer caches, shared lists and
   * watches) throws where it does so instead of corrupting the store. For tests; default: CONVERGIT_FREEZE_OBJECTS=1.
   */
  freeze?: boolean;
}

export async function openStore(dataDir: string, opts: StoreOptions = {}): Promise<LowdbStore> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 }); // state.json holds Secrets
  const file = join(dataDir, 'state.json');
  const loaded = await loadState(file);
  const journal = await JournalWriter.open(journalOf(file), loaded.journal.validBytes); // cuts off a torn tail
  return new LowdbStore(file, loaded, journal, new VersionLease(join(dataDir, 'state.rv')), opts);
}

// JSON's copy (what is stored is JSON): a third of structuredClone's time, and the strings shared, not copied.
const clone = <T>(v: T): T => (v === undefined ? v : jsonCopy(v));
/** What a write returns: a copy, or the stored object for a caller that asked for it shared. */
const out = (o: KubeObject, opts: WriteOptions) => (opts.shared ? o : clone(o));
/** Where an object lives: namespaced kinds default to `default`, cluster-scoped kinds use ''. */
const placeNs = (kind: string, ns: string | undefined) => (isNamespaced(kind) ? ns || 'default' : '');

export class LowdbStore implements Store {
  /** Writes so far (journal records and snapshots, with their bytes); tests assert coalescing with it. */
  readonly stats: Persister['stats'];
  private readonly objects = new ObjectIndex();
  private readonly events = new EventIndex();
  private readonly meta = new Map<string, unknown>();
  /** Meta keys kept in memory only (setMeta persist: false). */
  private readonly volatile = new Set<string>();
  /** Meta keys patched by entry (patchMeta): their maps change in place. */
  private readonly maps = new Set<string>();
  private rv: number;
  private readonly hub: WatchHub;
  private readonly persister: Persister;
  private readonly maxEvents: number;
  private readonly aggregator = new EventAggregator();
  private readonly now: () => Date;
  private readonly admitters: Admission[];
  private readonly freeze: boolean;
  private closing: Promise<void> | undefined;

  constructor(readonly file: string, loaded: LoadedState, journal: JournalWriter, private readonly lease: VersionLease, opts: StoreOptions = {}) {
    const onError = opts.onError ?? ((err: unknown) => console.error('store:', err));
    this.maxEvents = opts.maxEvents ?? 1000;
    this.now = opts.now ?? (() => new Date());
    this.admitters = opts.admit ?? [];
    this.freeze = opts.freeze ?? process.env.CONVERGIT_FREEZE_OBJECTS === '1';
    const state = loaded.db.data;
    this.rv = state.resourceVersion;
    for (const o of state.objects) {
      this.objects.put(this.freeze ? deepFreeze(o) : o);
      this.rv = Math.max(this.rv, Number(o.metadata.resourceVersion) || 0); // never hand out a version twice
    }
    // After a crash, versions up to the lease may have been handed out although state.json never got them.
    this.rv = Math.max(this.rv, lease.leased);
    this.events.load(state.objects.filter((o) => o.kind === 'Event'));
    for (const [k, v] of Object.entries(state.meta)) this.meta.set(k, v);
    this.hub = new WatchHub(opts.watchHistory ?? 1000, this.rv, onError);
    this.persister = new Persister(loaded, journal, {
      snapshot: (seq) => stateOf(this.rv, seq, this.objects.all(), [...this.meta].filter(([k]) => !this.volatile.has(k)), this.maps),
      object: (kind, ns, name) => this.objects.get(kind, ns, name),
      meta: (key) => (this.volatile.has(key) ? undefined : this.meta.get(key)),
      resourceVersion: () => this.rv,
    }, { delay: opts.flushDelay ?? 20, journalMin: opts.journalMin ?? 4 << 20, onError });
    this.stats = this.persister.stats;
    this.trimEvents(); // maxEvents may have been lowered since the last run
  }

  async get(kind: string, namespace: string | undefined, name: string, opts: { shared?: boolean } = {}): Promise<KubeObject | undefined> {
    const o = this.objects.get(kind, placeNs(kind, namespace), name);
    return o && (opts.shared ? o : clone(o));
  }

  async list(kind: string, opts: ListOptions = {}): Promise<KubeObject[]> {
    const ns = isNamespaced(kind) ? opts.namespace : undefined;
    const found = this.objects.list(kind, ns, opts.labelSelector);
    return opts.shared ? found : found.map(clone);
  }

  async resourceVersion(): Promise<string> {
    return String(this.rv);
  }

  async create(obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    this.assertOpen();
    return out(this.insert(this.admit(validated(obj), 'create')), opts);
  }

  async update(obj: KubeObject, opts: UpdateOptions = {}): Promise<KubeObject> {
    this.assertOpen();
    const given = validated(obj);
    const cur = this.current(given.kind, given.metadata.namespace, given.metadata.name);
    const o = this.admit(carryAllocated(cur, given), 'update');
    const { resourceVersion } = o.metadata;
    if (resourceVersion !== undefined && resourceVersion !== cur.metadata.resourceVersion) {
      throw new StoreError('Conflict', `${describe(o)}: resourceVersion ${resourceVersion} does not match ${cur.metadata.resourceVersion}; read it again`);
    }
    const { apiVersion, kind, metadata, status: _ignored, ...body } = o;
    const { apiVersion: _a, kind: _k, metadata: curMeta, status: curStatus, ...curBody } = cur;
    const status = opts.status === undefined ? curStatus : jsonCopy(opts.status);
    const changed = !isDeepStrictEqual(body, curBody);
    const next: KubeObject = {
      apiVersion,
      kind,
      metadata: {
        ...metadata,
        // Server-set fields survive whatever the caller sent; deletionTimestamp, once set, cannot be taken back.
        uid: curMeta.uid,
        resourceVersion: curMeta.resourceVersion,
        generation: (curMeta.generation ?? 1) + (changed ? 1 : 0),
        creationTimestamp: curMeta.creationTimestamp,
        ...(curMeta.deletionTimestamp && { deletionTimestamp: curMeta.deletionTimestamp, deletionGracePeriodSeconds: curMeta.deletionGracePeriodSeconds }),
      },
      ...body,
      ...(status !== undefined && { status }),
    };
    // Nothing changed: no new version and no event, so level-triggered controllers settle.
    if (isDeepStrictEqual(next, cur)) return out(cur, opts);
    return out(this.commit('MODIFIED', next, cur), opts);
  }

  async bindPods(bindings: PodBinding[]): Promise<(KubeObject | StoreError)[]> {
    this.assertOpen();
    return bindings.map((b) => {
      try {
        return this.bind(b);
      } catch (err) {
        if (err instanceof StoreError) return err;
        throw err;
      }
    });
  }

  async updateStatus(kind: string, namespace: string | undefined, name: string, status: unknown, opts: WriteOptions = {}): Promise<KubeObject> {
    this.assertOpen();
    const cur = this.current(kind, namespace, name);
    const next: KubeObject = { ...cur, status: status === undefined ? undefined : jsonCopy(status) };
    if (next.status === undefined) delete next.status;
    if (isDeepStrictEqual(next, cur)) return out(cur, opts);
    return out(this.commit('MODIFIED', next, cur), opts);
  }

  async delete(kind: string, namespace: string | undefined, name: string, opts: DeleteOptions = {}): Promise<KubeObject | undefined> {
    this.assertOpen();
    const cur = this.objects.get(kind, placeNs(kind, namespace), name);
    if (!cur) return undefined;
    const grace = graceFor(cur, opts);
    if (grace === undefined) return clone(this.commit('DELETED', cur));
    const deadline = new Date(this.now().getTime() + grace * 1000);
    // Already marked: a later request may shorten the grace period, never lengthen it.
    if (cur.metadata.deletionTimestamp && Date.parse(cur.metadata.deletionTimestamp) <= deadline.getTime()) return clone(cur);
    const marked = { ...cur, metadata: { ...cur.metadata, deletionTimestamp: isoSeconds(deadline), deletionGracePeriodSeconds: grace } };
    return clone(this.commit('MODIFIED', marked, cur));
  }

  async watch(opts: WatchOptions, handler: (e: WatchEvent) => void): Promise<() => void> {
    this.assertOpen();
    return this.hub.watch(opts, handler, this.rv);
  }

  async recordEvent(involved: ObjectRef, type: EventType, reason: string, message: string): Promise<void> {
    this.assertOpen();
    const now = this.now(), ts = isoSeconds(now);
    // Similar events of one object (only the message differs) are combined past a threshold, as client-go does.
    const combined = this.aggregator.observe(involved, type, reason, message, now.getTime());
    if (combined) {
      const { record } = combined;
      const prev = record.combined && this.objects.get('Event', record.combined.namespace, record.combined.name);
      if (prev) {
        this.commit('MODIFIED', { ...prev, message: combined.message, count: Number(prev.count ?? 1) + 1, lastTimestamp: ts }, prev);
        return;
      }
      let ev = newEvent(involved, type, reason, combined.message, ts);
      while (this.objects.get('Event', ev.metadata.namespace!, ev.metadata.name)) ev = newEvent(involved, type, reason, combined.message, ts);
      record.combined = { namespace: ev.metadata.namespace!, name: ev.metadata.name };
      this.insert(ev);
      return;
    }
    const at = this.events.find(foldKey(involved, type, reason, message));
    const cur = at && this.objects.get('Event', at.namespace, at.name);
    if (cur) {
      this.commit('MODIFIED', { ...cur, count: Number(cur.count ?? 1) + 1, lastTimestamp: ts }, cur);
      return;
    }
    let ev = newEvent(involved, type, reason, message, ts);
    while (this.objects.get('Event', ev.metadata.namespace!, ev.metadata.name)) ev = newEvent(involved, type, reason, message, ts);
    this.insert(ev);
  }

  async getMeta<T>(key: string, opts: { shared?: boolean } = {}): Promise<T | undefined> {
    const v = this.meta.get(key) as T | undefined;
    return opts.shared ? v : clone(v);
  }

  async setMeta(key: string, value: unknown, opts: { persist?: boolean } = {}): Promise<void> {
    this.assertOpen();
    this.maps.delete(key);
    if (opts.persist === false) {
      // Once on disk (an older run persisted it): removed from there.
      if (!this.volatile.has(key) && this.meta.has(key)) this.persister.markMeta(key);
      this.volatile.add(key);
      if (value === undefined) this.meta.delete(key);
      else this.meta.set(key, value);
      return;
    }
    const v = value === undefined ? undefined : jsonCopy(value);
    if (!this.volatile.delete(key) && isDeepStrictEqual(v, this.meta.get(key))) return;
    if (v === undefined) this.meta.delete(key);
    else this.meta.set(key, v);
    this.persister.markMeta(key);
  }

  async patchMeta(key: string, entries: Record<string, unknown>): Promise<void> {
    this.assertOpen();
    let map = this.meta.get(key) as Record<string, unknown> | undefined;
    if (this.volatile.delete(key) || !map || typeof map !== 'object' || Array.isArray(map)) {
      this.meta.set(key, (map = {}));
      this.persister.markMeta(key); // a new record: written whole (it is empty but for these entries)
    }
    this.maps.add(key);
    const changed: string[] = [];
    for (const [e, value] of Object.entries(entries)) {
      if (value === undefined) {
        if (!Object.hasOwn(map, e)) continue;
        delete map[e];
      } else {
        const v = jsonCopy(value);
        if (isDeepStrictEqual(v, map[e])) continue;
        map[e] = v;
      }
      changed.push(e);
    }
    if (changed.length) this.persister.markMetaEntries(key, changed);
  }

  flush(): Promise<void> {
    return this.persister.flush();
  }

  /** Stops watches and writes what is pending; later writes throw. Safe to call twice. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.hub.stopAll();
      await this.persister.close();
      this.lease.settle(this.rv); // all written: the next start goes on from here, not from the lease
    })();
    return this.closing;
  }

  private bind(b: PodBinding): KubeObject {
    const cur = this.current('Pod', b.namespace, b.name);
    const what = `pod ${cur.metadata.namespace}/${b.name}`;
    if (b.uid !== undefined && b.uid !== cur.metadata.uid) throw new StoreError('Conflict', `${what}: uid ${b.uid} does not match ${cur.metadata.uid}`);
    if (b.resourceVersion !== undefined && b.resourceVersion !== cur.metadata.resourceVersion) {
      throw new StoreError('Conflict', `${what}: resourceVersion ${b.resourceVersion} does not match ${cur.metadata.resourceVersion}; read it again`);
    }
    if (cur.spec?.nodeName) throw new StoreError('Conflict', `${what} is already assigned to node "${cur.spec.nodeName}"`);
    if (cur.metadata.deletionTimestamp) throw new StoreError('Conflict', `${what} is being deleted, cannot be assigned to a host`);
    if (typeof b.nodeName !== 'string' || !b.nodeName) throw new StoreError('Invalid', `${what}: a binding needs a node name`);
    const status = b.status === undefined ? undefined : jsonCopy(b.status);
    return this.commit('MODIFIED', { ...cur, spec: { ...cur.spec, nodeName: b.nodeName }, ...(status !== undefined && { status }) }, cur);
  }

  private assertOpen(): void {
    if (this.closing) throw new Error(`store ${this.file} is closed`);
  }

  private admit(o: KubeObject, operation: AdmissionContext['operation']): KubeObject {
    const ctx: AdmissionContext = { operation, get: (kind, ns, name) => this.objects.get(kind, placeNs(kind, ns), name) };
    return this.admitters.reduce((obj, step) => step(obj, ctx), o);
  }

  private current(kind: string, namespace: string | undefined, name: string): KubeObject {
    const ns = placeNs(kind, namespace);
    const cur = this.objects.get(kind, ns, name);
    if (!cur) throw new StoreError('NotFound', `${kind} ${ns ? `${ns}/` : ''}${name} not found`);
    return cur;
  }

  private insert(o: KubeObject): KubeObject {
    if (this.objects.get(o.kind, o.metadata.namespace ?? '', o.metadata.name)) {
      throw new StoreError('AlreadyExists', `${describe(o)} already exists`);
    }
    const { resourceVersion: _rv, ...meta } = o.metadata;
    const created = this.commit('ADDED', {
      ...o,
      metadata: { ...meta, uid: intern(randomUUID()), generation: 1, creationTimestamp: isoSeconds(this.now()) },
    });
    if (o.kind === 'Event') this.trimEvents();
    return created;
  }

  /** The one place state changes: next version, indexes, persistence, watchers. Returns the stored object. */
  private commit(type: WatchEventType, obj: KubeObject, prev?: KubeObject): KubeObject {
    this.lease.cover(this.rv + 1);
    const rv = ++this.rv;
    const stored: KubeObject = { ...obj, metadata: { ...obj.metadata, resourceVersion: String(rv) } };
    if (this.freeze) deepFreeze(stored);
    const { kind, metadata: { namespace = '', name } } = stored;
    if (type === 'DELETED') this.objects.remove(kind, namespace, name);
    else this.objects.put(stored);
    if (kind === 'Event') (type === 'DELETED' ? this.events.remove(stored) : this.events.put(stored));
    this.persister.markObject(kind, namespace, name);
    this.hub.publish({ rv, type, object: stored, prev });
    return stored;
  }

  private trimEvents(): void {
    for (let at = this.events.oldest(); at && this.events.size > this.maxEvents; at = this.events.oldest()) {
      this.commit('DELETED', this.objects.get('Event', at.namespace, at.name)!);
    }
  }
}

/**
 * A JSON copy (objects are stored as JSON: what a caller passes must look the same before and after a restart) with
 * the identity fields checked and the namespace placed by the kind's scope. Frozen parts below the top two levels
 * (the loader's defaulted objects: a Deployment's template) are kept as they are: stored objects are never written
 * into, and no one can change those.
 */
function validated(obj: KubeObject): KubeObject {
  let o: KubeObject;
  try {
    o = jsonCopySharingFrozen(obj);
  } catch (err) {
    throw new StoreError('Invalid', `object is not JSON: ${(err as Error).message}`);
  }
  const name = o?.metadata?.name;
  if (typeof o?.apiVersion !== 'string' || !o.apiVersion || typeof o.kind !== 'string' || !o.kind) {
    throw new StoreError('Invalid', 'object needs apiVersion and kind');
  }
  if (typeof name !== 'string' || !name || name.includes('/')) throw new StoreError('Invalid', `${o.kind}: invalid metadata.name ${JSON.stringify(name)}`);
  const ns = placeNs(o.kind, o.metadata.namespace);
  if (ns.includes('/')) throw new StoreError('Invalid', `${o.kind} ${name}: invalid metadata.namespace ${JSON.stringify(ns)}`);
  if (ns) o.metadata.namespace = ns;
  else delete o.metadata.namespace;
  return o;
}
