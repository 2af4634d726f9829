// The store on disk, through lowdb: state.json, a full snapshot, plus state.journal, the changes since (journal.ts).
// A write appends one journal record of what changed (its cost follows the change, not the store's size); once the
// journal outgrows the snapshot, the next write is a new snapshot instead (compaction) and the journal starts
// again. One write at a time; bursts of changes coalesced into one write; each write durable and atomic: a crash
// at any instant leaves the previous or the next state.
import { readFile, stat } from 'node:fs/promises';
import { Low, type Adapter } from 'lowdb';
import type { KubeObject } from '../model/object.ts';
import { persistedJson } from '../model/stored-json.ts';
import { writeFileDurably } from './durable-file.ts';
import { readJournal, type JournalRead, type JournalRecord, type JournalWriter } from './journal.ts';

export interface StateFile {
  version: 1;
  /** The store-wide counter, persisted so versions keep rising across restarts. */
  resourceVersion: number;
  /** The last journal record this snapshot holds (0 or absent: none). */
  seq?: number;
  objects: KubeObject[];
  meta: Record<string, unknown>;
}

export const emptyState = (): StateFile => ({ version: 1, resourceVersion: 0, seq: 0, objects: [], meta: {} });

/** state.journal beside state.json. */
export const journalOf = (file: string) => file.replace(/\.json$/, '') + '.journal';

const objectKey = (kind: string, ns: string, name: string) => `${kind}\0${ns}\0${name}`;
const keyOf = (o: KubeObject) => objectKey(o.kind, o.metadata.namespace ?? '', o.metadata.name);

export interface LoadedState {
  /** lowdb holding the state as of the last good journal record. */
  db: Low<StateFile>;
  journal: JournalRead;
  /** state.json's size (0 when missing: the first write is then a snapshot). */
  snapshotBytes: number;
}

/**
 * Reads state.json and replays the journal after it; a missing state.json is an empty store, anything unreadable
 * an error naming the file. A reader that is not the writer may cross a compaction (state.json replaced, the
 * journal restarted between its two reads): a gap in the records says so, and it reads again.
 */
export async function loadState(file: string): Promise<LoadedState> {
  for (let attempt = 0; ; attempt++) {
    const adapter = new DurableStateFile(file);
    const db = new Low<StateFile>(adapter, emptyState());
    let journal: JournalRead;
    try {
      await db.read();
    } catch (err) {
      // Never start empty over a damaged file: the next write would erase whatever is left in it.
      throw unreadable(file, 'state file', err);
    }
    try {
      journal = await readJournal(journalOf(file));
    } catch (err) {
      throw unreadable(journalOf(file), 'journal', err);
    }
    const after = db.data.seq ?? 0;
    const fresh = journal.records.filter((r) => r.seq > after);
    if (fresh.length && fresh[0].seq !== after + 1) {
      if (attempt < 5) continue;
      throw unreadable(journalOf(file), 'journal', new Error(`it starts at record ${fresh[0].seq} but ${file} ends at ${after}`));
    }
    if (fresh.length) db.data = replay(db.data, fresh);
    return { db, journal, snapshotBytes: adapter.bytesRead };
  }
}

const unreadable = (file: string, what: string, err: unknown) => {
  const why = err instanceof Error ? err.message : String(err);
  return new Error(`cannot open store: ${file} is not a readable convergit ${what} (${why}); repair or move it away`, { cause: err });
};

/** The snapshot with the records applied in order. */
function replay(s: StateFile, records: JournalRecord[]): StateFile {
  const objects = new Map(s.objects.map((o) => [keyOf(o), o]));
  const meta = { ...s.meta };
  let { resourceVersion, seq = 0 } = s;
  for (const r of records) {
    for (const [kind, ns, name] of r.del ?? []) objects.delete(objectKey(kind, ns, name));
    for (const o of r.put ?? []) objects.set(keyOf(o), o);
    Object.assign(meta, r.meta);
    for (const k of r.unmeta ?? []) delete meta[k];
    // Map-valued records are patched in place: they are this replay's own, parsed from the files.
    for (const [k, entries] of Object.entries(r.metaSet ?? {})) Object.assign(mapOf(meta, k), entries);
    for (const [k, gone] of Object.entries(r.metaDel ?? {})) {
      const m = mapOf(meta, k);
      for (const e of gone) delete m[e];
    }
    resourceVersion = Math.max(resourceVersion, r.resourceVersion);
    seq = r.seq;
  }
  return { version: 1, resourceVersion, seq, objects: [...objects.values()], meta };
}

function mapOf(meta: Record<string, unknown>, key: string): Record<string, unknown> {
  const v = meta[key];
  if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  return (meta[key] = {});
}

/** lowdb's adapter for state.json: lowdb keeps the data, this reads it checked and writes it durably. */
class DurableStateFile implements Adapter<StateFile> {
  bytesRead = 0;
  bytesWritten = 0;
  constructor(private readonly file: string) {}

  async read(): Promise<StateFile | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    this.bytesRead = Buffer.byteLength(text);
    return parseState(this.file, text);
  }

  async write(data: StateFile): Promise<void> {
    // Object by object, the event loop turning between pieces: no single giant JSON.stringify. The objects are
    // the store's own, never mutated (an update puts a new one), so the pieces form one consistent state.
    let bytes = 0;
    const count = (s: string) => ((bytes += Buffer.byteLength(s)), s);
    await writeFileDurably(this.file, (function* () {
      const { objects, ...rest } = data;
      yield count(`${JSON.stringify(rest).slice(0, -1)},"objects":[`);
      let piece = '';
      for (let i = 0; i < objects.length; i++) {
        piece += (i ? ',' : '') + persistedJson(objects[i]); // the store's own: the text the API made, if it did
        if (piece.length >= 1 << 20) {
          yield count(piece);
          piece = '';
        }
      }
      yield count(`${piece}]}`);
    })());
    this.bytesWritten = bytes;
  }
}

function parseState(file: string, text: string): StateFile {
  const s = JSON.parse(text) as Partial<StateFile> | null;
  const bad = (what: string) => new Error(`${what} in ${file}`);
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw bad('not a JSON object');
  if (s.version !== 1) throw bad(`unknown version ${JSON.stringify(s.version)}`);
  if (!Number.isSafeInteger(s.resourceVersion) || s.resourceVersion! < 0) throw bad('bad resourceVersion');
  if (s.seq !== undefined && (!Number.isSafeInteger(s.seq) || s.seq < 0)) throw bad('bad seq');
  if (!Array.isArray(s.objects)) throw bad('objects is not a list');
  for (const o of s.objects) {
    if (typeof o?.kind !== 'string' || typeof o?.metadata?.name !== 'string') throw bad('an object without kind or metadata.name');
  }
  if (!s.meta || typeof s.meta !== 'object' || Array.isArray(s.meta)) throw bad('meta is not an object');
  return s as StateFile;
}

/** What the persister reads from the store when it writes. */
export interface PersistSource {
  snapshot(seq: number): StateFile;
  object(kind: string, ns: string, name: string): KubeObject | undefined;
  meta(key: string): unknown;
  resourceVersion(): number;
}

export interface PersistOptions {
  /** Changes within this many ms are written together. */
  delay: number;
  /** The journal is compacted once it is larger than the snapshot and than this many bytes. */
  journalMin: number;
  onError: (err: unknown) => void;
}

/** Writes what changed at most once per `delay` ms while changes keep coming, never two writes at once. */
export class Persister {
  /** writes: journal records and snapshots; bytes: both together. */
  readonly stats = { writes: 0, snapshots: 0, records: 0, bytes: 0 };
  private readonly objects = new Map<string, [string, string, string]>();
  private readonly metas = new Set<string>();
  /** Entries of map-valued meta records changed since the last write (meta key → entry keys). */
  private readonly metaEntries = new Map<string, Set<string>>();
  /** The next write must be a snapshot: none exists yet, or a failed write may have left the journal torn. */
  private needSnapshot: boolean;
  /** A write failed: write again even if nothing else changes. */
  private failed = false;
  private snapshotBytes: number;
  private seq: number;
  private timer: NodeJS.Timeout | undefined;
  /** Only lowdb's handle is kept from what was loaded: the journal's records are not needed once replayed. */
  private readonly db: Low<StateFile>;
  /** The write in flight (or a resolved promise); each write chains after the previous one. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    loaded: LoadedState,
    private readonly journal: JournalWriter,
    private readonly source: PersistSource,
    private readonly opts: PersistOptions,
  ) {
    this.db = loaded.db;
    this.snapshotBytes = loaded.snapshotBytes;
    this.needSnapshot = loaded.snapshotBytes === 0;
    this.seq = loaded.db.data.seq ?? 0;
    // What was loaded is the store's now (its index holds the objects): kept in lowdb's handle, every object's
    // version as loaded would stay in memory for as long as the store is open, beside the versions that replace it.
    this.db.data = emptyState();
  }

  /** An object changed (or was deleted): write it within `delay` ms, with whatever else changes meanwhile. */
  markObject(kind: string, ns: string, name: string): void {
    this.objects.set(objectKey(kind, ns, name), [kind, ns, name]);
    this.arm(this.opts.delay);
  }

  markMeta(key: string): void {
    this.metas.add(key);
    this.arm(this.opts.delay);
  }

  /** Entries of a map-valued meta record changed: only they are written (unless the whole record is too). */
  markMetaEntries(key: string, entries: Iterable<string>): void {
    let set = this.metaEntries.get(key);
    if (!set) this.metaEntries.set(key, (set = new Set()));
    for (const e of entries) set.add(e);
    this.arm(this.opts.delay);
  }

  /** Writes pending changes now, after any write in flight. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.write();
  }

  /** Flushes, then closes the journal. */
  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      await this.journal.close();
    }
  }

  private get dirty(): boolean {
    return this.objects.size > 0 || this.metas.size > 0 || this.metaEntries.size > 0 || this.failed;
  }

  private arm(ms: number, retry = false): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write().catch((err) => {
        this.opts.onError(err);
        this.arm(Math.max(this.opts.delay, 1000), true); // retry, but do not spin on a full disk
      });
    }, ms);
    // A pending change keeps the process alive until written; a failing retry alone must not keep it alive forever.
    if (retry) this.timer.unref();
  }

  private write(): Promise<void> {
    const job = this.chain.then(() => {
      if (!this.dirty) return;
      const compact = this.needSnapshot || this.journal.size >= Math.max(this.opts.journalMin, this.snapshotBytes);
      return compact ? this.writeSnapshot() : this.appendRecord();
    });
    this.chain = job.catch(() => {});
    return job;
  }

  private async appendRecord(): Promise<void> {
    const r: JournalRecord = { seq: ++this.seq, resourceVersion: this.source.resourceVersion() };
    const put: KubeObject[] = [], del: [string, string, string][] = [];
    for (const ref of this.objects.values()) {
      const o = this.source.object(...ref);
      if (o) put.push(o);
      else del.push(ref);
    }
    const meta: Record<string, unknown> = {}, unmeta: string[] = [];
    for (const k of this.metas) {
      const v = this.source.meta(k);
      if (v === undefined) unmeta.push(k);
      else meta[k] = v;
    }
    const metaSet: Record<string, Record<string, unknown>> = {}, metaDel: Record<string, string[]> = {};
    for (const [k, entries] of this.metaEntries) {
      if (this.metas.has(k)) continue; // written whole
      const map = (this.source.meta(k) ?? {}) as Record<string, unknown>;
      for (const e of entries) {
        const v = map[e];
        if (v === undefined) (metaDel[k] ??= []).push(e);
        else (metaSet[k] ??= {})[e] = v;
      }
    }
    if (Object.keys(metaSet).length) r.metaSet = metaSet;
    if (Object.keys(metaDel).length) r.metaDel = metaDel;
    if (put.length) r.put = put;
    if (del.length) r.del = del;
    if (unmeta.length) r.unmeta = unmeta;
    if (this.metas.size > unmeta.length) r.meta = meta;
    this.objects.clear();
    this.metas.clear();
    this.metaEntries.clear();
    this.failed = false;
    this.stats.writes++;
    try {
      const n = await this.journal.append(r);
      this.stats.records++;
      this.stats.bytes += n;
    } catch (err) {
      // What reached the file is unknown (maybe a torn record): the next write is a snapshot, which holds
      // everything and restarts the journal. This record's seq stays used, so it could never be replayed over it.
      this.needSnapshot = this.failed = true;
      throw err;
    }
  }

  private async writeSnapshot(): Promise<void> {
    this.objects.clear();
    this.metas.clear();
    this.metaEntries.clear();
    this.needSnapshot = this.failed = false;
    const { db } = this;
    db.data = this.source.snapshot(this.seq);
    this.stats.writes++;
    try {
      await db.write();
      const adapter = db.adapter as DurableStateFile;
      this.snapshotBytes = adapter.bytesWritten;
      this.stats.snapshots++;
      this.stats.bytes += adapter.bytesWritten;
      // state.json now holds every record (their seqs are at most its own): a crash before this is harmless.
      await this.journal.reset();
    } catch (err) {
      this.needSnapshot = this.failed = true;
      throw err;
    } finally {
      // Written (or to be written again from the store): the snapshot's array would otherwise keep each object's
      // version of that instant alive, after the store has replaced it, until the next compaction.
      db.data = emptyState();
    }
  }
}

/** The state of a data folder, read without opening a store: safe while a `serve` owns the folder. */
export async function readStateFile(file: string): Promise<StateFile> {
  return (await loadState(file)).db.data;
}

/**
 * For the store's snapshot of itself. Map-valued records (`maps`) are patched in place, so they are copied here:
 * the snapshot is serialised over several turns of the event loop and must hold them as they are now.
 */
export const stateOf = (resourceVersion: number, seq: number, objects: Iterable<KubeObject>, meta: Iterable<[string, unknown]>, maps: ReadonlySet<string>): StateFile =>
  ({ version: 1, resourceVersion, seq, objects: [...objects], meta: Object.fromEntries([...meta].map(([k, v]) => [k, maps.has(k) ? { ...(v as object) } : v])) });
