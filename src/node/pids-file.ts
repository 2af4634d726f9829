// The containers this node runs, kept in <dataDir>/nodes/<node>/pids.json: for each (pod uid, container) the
// runtime's record of its current instance and what it was launched with. Containers outlive `serve` (stopped or
// killed); the next start hands each record back to the runtime to re-adopt it, and `convergit stop` reads it to
// stop them all. Rewritten whole and renamed into place, so a crash never leaves half a file.
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { writeFile } from './quick-fs.ts';
import { dirname } from 'node:path';
import type { ContainerLaunch, ContainerRecord } from './runtime/runtime.ts';
import { writeFileWholeSync } from '../store/durable-file.ts';

export interface PidEntry {
  podUID: string;
  container: string;
  /** The runtime's record (RunningContainer.record). */
  record: ContainerRecord;
  launch: ContainerLaunch;
  /** The instance's restartCount: its log file's number, and what the status says once it is re-adopted. */
  restartCount: number;
  /** Termination grace for `convergit stop`. */
  graceMs: number;
}

const keyOf = (podUID: string, container: string) => `${podUID}/${container}`;

export class PidsFile {
  private readonly entries = new Map<string, PidEntry>();
  /** Each entry's JSON as bytes, made once when it is added (an entry is never changed after): a write concatenates
   * them (joining their strings and encoding the whole again was most of a write's CPU). */
  private readonly texts = new Map<string, Buffer>();

  constructor(readonly file: string) {}

  /** What a previous run recorded. Kept until the caller removes what it could not re-adopt, so a crash meanwhile loses nothing. */
  load(): PidEntry[] {
    PidsFile.flushPending(this.file);
    const found = readFromDisk(this.file);
    this.entries.clear();
    this.texts.clear();
    for (const e of found) this.entries.set(keyOf(e.podUID, e.container), e);
    kept.set(this.file, this);
    return found;
  }

  /** What the file says once every change so far is written: read from memory. */
  list(): PidEntry[] {
    return [...this.entries.values()];
  }

  add(entry: PidEntry): void {
    if (this.closed) return;
    this.entries.set(keyOf(entry.podUID, entry.container), entry);
    this.texts.delete(keyOf(entry.podUID, entry.container));
    this.write();
  }

  /** Forgets the instance, unless a newer one of the same container has been recorded meanwhile. */
  remove(podUID: string, container: string, record?: ContainerRecord): void {
    if (this.closed) return;
    const key = keyOf(podUID, container);
    const e = this.entries.get(key);
    if (!e || (record && e.record !== record)) return;
    this.entries.delete(key);
    this.texts.delete(key);
    this.write();
  }

  private dirty = false;
  /** An asynchronous write under way. */
  private writing?: Promise<void>;
  private folderMade = false;
  /** Bumped by each synchronous write. */
  private gen = 0;
  /** When the last asynchronous write began (performance.now()). */
  private lastWriteAt = -Infinity;

  /**
   * Written off the event loop (temporary file, then rename, on libuv's threads), once for all the changes of a
   * turn of the loop: a burst of containers starting or stopping on a node rewrote the whole file synchronously for
   * each, and a rename over an existing file waits for the disk (ext4 flushes the new file's data first), seconds of
   * serve's loop in a 1,000-pod deletion. A serve that exits, or another reader of the file in this process, gets
   * it written synchronously at once. Writes begin WRITE_GAP_MS apart at least (longer with many entries): each
   * rewrites every entry, so a node starting 100 containers one turn of the loop apart rewrote the file 100 times
   * (quadratic: the biggest part of serve's I/O and string building in a 1,000-pod creation). A container started
   * within the gap and not yet written when serve is killed is found by the next serve as a stray
   * (process-strays.ts) and started again.
   */
  private write(): void {
    if (!this.folderMade) {
      // Made here, once, so a write still under way never makes again a folder removed meanwhile.
      mkdirSync(dirname(this.file), { recursive: true });
      this.folderMade = true;
    }
    if (this.dirty) return;
    this.dirty = true;
    unsaved.set(this.file, this);
    if (!exitHooked) process.once('exit', () => { for (const f of unsaved.values()) f.flush(); });
    exitHooked = true;
    if (!this.writing) this.scheduleWrite();
  }

  private scheduleWrite(): void {
    const wait = this.lastWriteAt + Math.min(WRITE_GAP_MS * Math.max(1, this.entries.size / 20), MAX_WRITE_GAP_MS) - performance.now();
    if (wait > 0) setTimeout(this.flushAsync, wait);
    else setImmediate(this.flushAsync);
  }

  private readonly flushAsync = (): void => {
    if (!this.dirty || this.writing) return;
    this.dirty = false;
    this.lastWriteAt = performance.now();
    const text = this.text();
    const tmp = `${this.file}.tmp`;
    const gen = this.gen;
    // Not renamed into place if a synchronous write of newer content was made meanwhile.
    this.writing = writeFile(tmp, text).then(() => (gen === this.gen ? rename(tmp, this.file) : undefined))
      .catch(() => {}) // the folder removed meanwhile (its node is gone), or a disk error: the next change writes it again
      .finally(() => {
        this.writing = undefined;
        if (this.dirty) this.scheduleWrite();
        else if (unsaved.get(this.file) === this) unsaved.delete(this.file);
      });
  };

  /** Once a write under way has ended, what is left written now: a stopped node leaves no write (nor timer) behind. */
  async settle(): Promise<void> {
    await this.writing;
    this.flush();
  }

  private closed = false;
  /**
   * Its node has stopped or detached: what it recorded is written, and nothing it hears later changes the file. A
   * detached node's runtime still reports the exits of the containers it started (when another node of this process,
   * on the same folder, stops them: a node restarted in one process, as the tests do): its stale copy, written then,
   * overwrote the next node's file, or landed in a folder being removed.
   */
  async close(): Promise<void> {
    await this.settle();
    this.closed = true;
    if (kept.get(this.file) === this) kept.delete(this.file);
  }

  /** Written now, synchronously (serve exiting, or a reader in this process). */
  readonly flush = (): void => {
    if (!this.dirty && !this.writing) return;
    this.dirty = false;
    this.gen++;
    if (unsaved.get(this.file) === this) unsaved.delete(this.file);
    try {
      writeFileWholeSync(this.file, this.text()); // its temporary file is not the one a write under way uses
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; // the folder removed: its node is gone
    }
  };

  private text(): Buffer {
    const parts: Buffer[] = [OPEN];
    for (const [k, e] of this.entries) {
      if (parts.length > 1) parts.push(COMMA);
      parts.push(this.textOf(k, e));
    }
    parts.push(CLOSE);
    return Buffer.concat(parts);
  }

  private textOf(key: string, e: PidEntry): Buffer {
    let t = this.texts.get(key);
    if (t === undefined) this.texts.set(key, (t = Buffer.from(JSON.stringify(e))));
    return t;
  }

  /** Writes now what another instance for the same file has not written yet (a node restarted in one process). */
  static flushPending(file: string): void {
    unsaved.get(file)?.flush();
  }
}

const OPEN = Buffer.from('['), COMMA = Buffer.from(','), CLOSE = Buffer.from(']');

/** The shortest time between the beginnings of two asynchronous writes of one file, for up to 20 entries; more
 * entries, a longer gap (each write costs them all), up to MAX_WRITE_GAP_MS. */
const WRITE_GAP_MS = 100;
const MAX_WRITE_GAP_MS = 1000;

/** The file of each instance with changes not yet written. */
const unsaved = new Map<string, PidsFile>();
let exitHooked = false;
/** The instance of this process that keeps each file (the last to load it): its entries are the file's. */
const kept = new Map<string, PidsFile>();
/** Files no instance here keeps (a node of an earlier run), as last parsed, by identity, size and time. */
const parsed = new Map<string, { stamp: string; entries: PidEntry[] }>();

/**
 * The entries of a pids.json; an unreadable or older-format file is empty (what it named is then restarted). A file
 * a node of this process keeps is read from its memory, and any other is parsed again only when it changed: the
 * housekeeping, the usage reporter and the log rotator of every node read them all every few seconds, and a
 * synchronous write of pending changes then a parse of each (1,000 containers' launches) blocked serve's loop.
 */
export function readPidsFile(file: string): PidEntry[] {
  const mine = kept.get(file);
  if (mine) return mine.list();
  PidsFile.flushPending(file);
  let stamp: string;
  try {
    const st = statSync(file);
    stamp = `${st.ino}:${st.size}:${st.mtimeMs}`;
  } catch {
    parsed.delete(file);
    return [];
  }
  const hit = parsed.get(file);
  if (hit?.stamp === stamp) return hit.entries;
  const entries = readFromDisk(file);
  parsed.set(file, { stamp, entries });
  return entries;
}

function readFromDisk(file: string): PidEntry[] {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    return Array.isArray(v) ? v.filter((e) => e && typeof e.podUID === 'string' && typeof e.container === 'string' && e.record && e.launch) : [];
  } catch {
    return [];
  }
}
