// Loaded files kept on disk between processes (serve: <data-dir>/loads, the CLI: the user's cache folder), so
// `validate`, `plan` and a restarted serve neither parse nor validate a file they loaded before (issue 14). One
// file of lines, `<crc32>\t<key>\t<StoredFile JSON>`, under a header naming the code that wrote them: a later
// line of a key wins; a line whose checksum fails (a torn write, a disk error) is skipped, and so is every line
// when the code changed. New entries are appended (a commit costs what it changed); past its bound the file is
// rewritten with only what this process used. Entries are serialised when written, not when set, and serve
// writes a few seconds after a load (writeDelayMs): the entries a cold start's main thread loaded itself (~4,700 of
// 10,000, ~0.5 s of CPU) are serialised after its first sync, not in it (issue 14), in the background (pauses());
// those the parse workers made as text go as they come. Other load caches can be read too, never written (`alsoFrom`:
// `plan --data-dir` reads serve's <data-dir>/loads, so a first plan on serve's machine parses what serve did not).
import { readFileSync } from 'node:fs';
import { appendFile, mkdir, open, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { LoadCache, LoadOptions } from '../manifests/types.ts';
import { preloadFile } from '../manifests/load-manifests.ts';
import { isKustomizationFile } from './kustomization-file.ts';
import { codeFingerprint } from './code-fingerprint.ts';

const FILE = 'loads.ndjson';
// 3: field positions compact (positions.ts), no line starts; 4: keys written as they are when they can be (written()).
const FORMAT = 'convergit load cache 4';
/** Default bound of the file: some 50,000 small manifests. */
const MAX_BYTES = 128 * 1024 * 1024;

export interface LoadCacheStats { hits: number; misses: number; added: number; skipped: number }

export class DiskLoadCache implements LoadCache {
  readonly stats: LoadCacheStats = { hits: 0, misses: 0, added: 0, skipped: 0 };
  /** Entries read and not handed out yet, as JSON text (parsed when asked for: most loads want each once). */
  private lines = new Map<string, string>();
  /** Entries to append at the next flush: JSON text, or what makes the entry (serialised when written). */
  private added = new Map<string, string | (() => unknown)>();
  /**
   * Keys this process used or added, by their checksum: what a rewrite keeps. A checksum two keys share keeps a line
   * that was not used, which does no harm; the keys themselves held 2.4 MB at 10,000 files.
   */
  private used = new Set<number>();
  private size = 0;
  /** The file is not ours to append to (missing, or another code's): the next flush writes it anew. */
  private fresh = true;
  /** The write a delayed flush scheduled, and the last write begun (writes never overlap). */
  private timer?: NodeJS.Timeout;
  private writing: Promise<void> = Promise.resolve();
  /** Entries being written: still answered by get() and has() until their lines are on disk. */
  private inWrite = new Map<string, string | (() => unknown)>();
  /** close() was called: no more pauses; `wake` ends the one under way. */
  private hurry = false;
  private wake?: () => void;
  /** Files of other load caches (alsoFrom) not read yet: read at the first key this one lacks. */
  private others: string[] = [];

  private constructor(private readonly file: string, private readonly header: string, private readonly maxBytes: number, private readonly writeDelayMs = 0) {}

  /**
   * `writeDelayMs`: flush() writes that much later (what more loads add by then goes with it); close() writes now.
   * `alsoFrom`: folders of other load caches, read (not written) for the entries this one lacks, when the first is
   * asked for: a warm cache of its own reads nothing more.
   */
  static async open(dir: string, opts: { fingerprint?: string; maxBytes?: number; writeDelayMs?: number; alsoFrom?: string[] } = {}): Promise<DiskLoadCache> {
    const header = JSON.stringify({ format: FORMAT, code: opts.fingerprint ?? codeFingerprint() });
    const cache = new DiskLoadCache(join(dir, FILE), header, opts.maxBytes ?? MAX_BYTES, opts.writeDelayMs);
    cache.others = (opts.alsoFrom ?? []).map((d) => join(d, FILE)).filter((f) => f !== cache.file);
    const text = await readFile(cache.file, 'utf8').catch(() => undefined);
    if (text !== undefined && text.startsWith(`${header}\n`)) {
      cache.fresh = false;
      cache.size = Buffer.byteLength(text);
      cache.read(text.slice(header.length + 1));
    }
    return cache;
  }

  get(key: string): unknown {
    const text = this.has(key) ? this.lines.get(key) ?? jsonOf(this.added.get(key) ?? this.inWrite.get(key)) : undefined;
    if (text === undefined) {
      this.stats.misses++;
      return undefined;
    }
    this.lines.delete(key); // the loader keeps what it restores: no second copy here
    this.used.add(checksum(key));
    this.stats.hits++;
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  /** Whether this cache answers `key`: the other caches (alsoFrom) are read at the first key it lacks. */
  has(key: string): boolean {
    if (this.others.length && !this.holds(key)) this.readOthers();
    return this.holds(key);
  }

  private holds(key: string): boolean {
    return this.lines.has(key) || this.added.has(key) || this.inWrite.has(key);
  }

  /**
   * The other caches' entries this one lacks (one of another code is not read; a line being appended as it is read
   * fails its checksum). Kept as read, not copied into this one's file: what this process loads itself is.
   */
  private readOthers() {
    for (const file of this.others.splice(0)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        continue; // none there, or not ours to read: only time lost
      }
      if (text.startsWith(`${this.header}\n`)) this.read(text.slice(this.header.length + 1), true);
    }
  }

  set(key: string, value: unknown, opts: { json?: boolean; lazy?: boolean } = {}): void {
    this.added.set(key, opts.json ? String(value) : opts.lazy ? value as () => unknown : () => value);
    this.used.add(checksum(key));
    this.stats.added++;
  }

  /**
   * Writes what was added since the last flush. A cache that cannot be written only costs time. Entries read from
   * the file and not asked for by the load just done are let go: a long-running serve keeps no stale ones in memory.
   */
  async flush(): Promise<void> {
    this.lines.clear();
    if (!this.added.size) return;
    if (this.writeDelayMs > 0) {
      this.timer ??= setTimeout(() => void this.writeNow(true), this.writeDelayMs).unref();
      return;
    }
    await this.writeNow();
  }

  /**
   * Writes what was set so far. When writes are delayed (serve writes after its sync, whose main thread is never idle),
   * only the entries set as text (a parse worker's: nothing to serialise): held until the delayed flush, a cold
   * start's 10,000 were ~10 MB of serve's heap at its peak (issue 14).
   */
  writeSoFar(): void {
    if (!this.writeDelayMs) void this.writeNow();
    else void this.queue(true, false);
  }

  /** Writes what is still to be written (a delayed flush's entries), and waits for any write under way. */
  async close(): Promise<void> {
    this.hurry = true; // a paced write under way goes on at once
    this.wake?.();
    await this.writeNow();
  }

  /** `paced`: the delayed flush's write, in the background (see pauses()). */
  private writeNow(paced = false): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.queue(false, paced);
  }

  /** An append after the writes begun (they never overlap). */
  private queue(textOnly: boolean, paced: boolean): Promise<void> {
    return (this.writing = this.writing.then(() => this.append(textOnly, paced)));
  }

  /**
   * After each block of lines, a pause three times as long as making it took: a background write takes at most a
   * quarter of the event loop. A cold start's ~4,700 entries its main thread loaded, serialised at once, kept the
   * loop busy for half a second beside a commit: GETs waited, and the heap governor
   * (cli/heap-growth.ts) took it for pod churn.
   */
  private pauses(paced: boolean): (made: number) => Promise<void> {
    return (made) => new Promise((resolve) => {
      if (!paced || this.hurry) return resolve();
      const timer = setTimeout(this.wake = () => { clearTimeout(timer); this.wake = undefined; resolve(); }, 3 * made);
    });
  }

  /** Appends the entries added (`textOnly`: those already text), and forgets them. */
  private async append(textOnly: boolean, paced: boolean): Promise<void> {
    const entries = [...this.added].filter(([, v]) => !textOnly || typeof v === 'string');
    if (!entries.length) return;
    for (const [k, v] of entries) {
      this.added.delete(k);
      this.inWrite.set(k, v);
    }
    try {
      await mkdir(join(this.file, '..'), { recursive: true });
      if (this.fresh) {
        await this.replace(linesOf(entries, `${this.header}\n`), this.pauses(paced));
        this.fresh = false;
      } else {
        await eachBlock(linesOf(entries), this.pauses(paced), async (bytes) => {
          this.size += bytes.length;
          await appendFile(this.file, bytes);
        });
      }
      if (this.size > this.maxBytes) await this.compact();
    } catch { /* next time */ } finally {
      for (const [k, v] of entries) if (this.inWrite.get(k) === v) this.inWrite.delete(k);
    }
  }

  /** `lacking`: only the keys not held already (another cache's lines: this one's own are newer for it). */
  private read(body: string, lacking = false) {
    for (let at = 0; at < body.length;) {
      let end = body.indexOf('\n', at);
      if (end < 0) end = body.length; // a torn last line: its checksum fails
      const tab1 = body.indexOf('\t', at);
      const tab2 = tab1 < 0 ? -1 : body.indexOf('\t', tab1 + 1); // no key holds a tab (written())
      if (tab1 > at && tab2 > tab1 && tab2 < end && body.slice(at, tab1) === sum(body.slice(tab1 + 1, end))) {
        const k = keyRead(body.slice(tab1 + 1, tab2));
        if (k === undefined) this.stats.skipped++;
        else if (!lacking || !this.holds(k)) this.lines.set(k, body.slice(tab2 + 1, end));
      } else this.stats.skipped++;
      at = end + 1;
    }
  }

  /** Keeps what this process used, newest last, within half the bound; the rest goes. */
  private async compact() {
    const text = await readFile(this.file, 'utf8');
    if (!text.startsWith(`${this.header}\n`)) return;
    const kept = new Map<string, string>();
    const all = new DiskLoadCache(this.file, this.header, this.maxBytes);
    all.read(text.slice(this.header.length + 1));
    for (const [k, json] of all.lines) if (this.used.has(checksum(k))) kept.set(k, json);
    const lines = [...kept].map(([k, json]) => line(k, json));
    let bytes = 0, from = lines.length;
    while (from > 0 && bytes + Buffer.byteLength(lines[from - 1]) <= this.maxBytes / 2) bytes += Buffer.byteLength(lines[--from]);
    await this.replace([`${this.header}\n`, lines.slice(from).join('')]);
  }

  /** Written aside and renamed: a reader sees the old file or the new one, never half of one. */
  private async replace(texts: Iterable<string>, pause?: (made: number) => Promise<void>) {
    const tmp = `${this.file}.${process.pid}.tmp`;
    const out = await open(tmp, 'w');
    let size = 0;
    try {
      await eachBlock(texts, pause, async (bytes) => {
        size += bytes.length;
        await out.writeFile(bytes);
      });
    } finally {
      await out.close();
    }
    await rename(tmp, this.file);
    this.size = size;
  }
}

/**
 * Entries' lines (after `first`, a header), made a few hundred at a time as they are written: a cold start's
 * 10,000 entries made into one 15 MB text (and its UTF-8 copy) at once.
 */
function* linesOf(entries: [string, string | (() => unknown)][], first?: string): Generator<string> {
  if (first) yield first;
  for (let i = 0; i < entries.length; i += LINES_AT_ONCE) yield entries.slice(i, i + LINES_AT_ONCE).map(([k, entry]) => line(k, jsonOf(entry)!)).join('');
}
const LINES_AT_ONCE = 500;

/**
 * Each text as UTF-8 bytes, the text itself let go before the write is awaited: a text held across the write
 * outlived two collections of the young generation while the engine's first pass ran, and was moved to the old one
 * (V8's sampling heap profiler, objects a young collection took left out: 22 MB of a 10,000-object serve's start
 * came from writing these lines, 15.6 MB now); the bytes are outside V8's heap.
 */
function* encoded(texts: Iterable<string>): Generator<Buffer> {
  for (const text of texts) yield Buffer.from(text);
}

/** Writes each text's bytes with `write`, then `pause`s for the ms making them took. */
async function eachBlock(texts: Iterable<string>, pause: ((made: number) => Promise<void>) | undefined, write: (bytes: Buffer) => Promise<void>) {
  let t0 = performance.now();
  for (const bytes of encoded(texts)) {
    const made = performance.now() - t0;
    await write(bytes);
    await pause?.(made);
    t0 = performance.now();
  }
}

/** An added entry's JSON text (made now if it was set lazily). */
const jsonOf = (entry: string | (() => unknown) | undefined) => (typeof entry === 'function' ? JSON.stringify(entry()) : entry);

/**
 * A key as it is written on its line: as it is, or as a JSON string (which starts with a quote, as no key written as it
 * is can) when it holds what could end it early or be read as JSON: a tab, a line break, a quote or a backslash. In
 * memory keys are as given: JSON for every key of every lookup was ~1% of a cold `plan` at 10,000 files (their NUL
 * separators take JSON's slow path).
 */
const ESCAPE = /[\t\n\r"\\]/;
const written = (key: string) => (ESCAPE.test(key) ? JSON.stringify(key) : key);
/** A key as it was written; undefined for a quoted one that is not JSON (its checksum held: a bug, not damage). */
function keyRead(text: string): string | undefined {
  if (text.charCodeAt(0) !== 34) return text;
  try {
    const key: unknown = JSON.parse(text);
    return typeof key === 'string' ? key : undefined;
  } catch {
    return undefined;
  }
}
const sum = (s: string) => (crc32(s) >>> 0).toString(16);
/** A key's checksum as a small integer (signed: half of crc32's unsigned values would be boxed numbers). */
const checksum = (k: string) => crc32(k) | 0;
const line = (key: string, json: string) => {
  const k = written(key);
  return `${sum(`${k}\t${json}`)}\t${k}\t${json}\n`;
};

/**
 * For a source's read (ReadOptions.unread): the manifests `cache` holds loaded need not be read from git at all.
 * Kustomization files are always read: the build step reads their text.
 */
export const unreadBy = (cache: LoadCache, opts: Pick<LoadOptions, 'strict' | 'maxAliases'>) =>
  (path: string, oid: string) => /\.ya?ml$/i.test(path) && !isKustomizationFile(path) && preloadFile(cache, path, oid, opts);
