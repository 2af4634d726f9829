// When each byte of a process container's log was first seen. A process container writes its log file itself (so it
// outlives serve), which gives its lines no time of their own; serve watches each live container's file (inotify,
// and a slow look as a safety net) and appends to `<log>.times` one entry per growth it sees: `<end> <ms>`, "the
// bytes up to offset <end> had been written by <ms>" (epoch milliseconds). A line's time is the entry covering its
// first byte. Bytes written while no serve watched (serve stopped, pods coasting) are stamped when serve next looks,
// with the file's mtime then: the time of the last of them, never earlier than any was written. A rotation that cuts
// the file's head in place (log-rotation.ts) shifts the index with it, under a pause of the watcher.
import { appendFileSync, existsSync, readFileSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { writeFileWholeSync } from '../store/durable-file.ts';

/** The index beside a log: `<n>.log.times`. */
export const logTimesFile = (log: string) => `${log}.times`;

/** Entry i: the bytes [ends[i-1], ends[i]) of the file were first seen at times[i] (epoch ms). Ends increase. */
export interface LogTimes { ends: number[]; times: number[] }

/** The index of `log` (empty when it has none). A torn or garbled entry (a crash mid-append) ends it. */
export const readLogTimes = (log: string): LogTimes => parseLogTimes(timesText(log));

/**
 * The index file's text, '' when there is none. Looked for before it is read: a container just started has none,
 * and the Error of a failed read (with its stack) cost more than the read, twice per pod started.
 */
function timesText(log: string): string {
  const file = logTimesFile(log);
  if (!existsSync(file)) return '';
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function parseLogTimes(text: string): LogTimes {
  const ends: number[] = [], times: number[] = [];
  const lines = text.split('\n');
  lines.pop(); // an entry is whole once its newline is written
  for (const line of lines) {
    const m = /^(\d+) (\d+)$/.exec(line);
    if (!m) break;
    const end = Number(m[1]);
    if (ends.length && end <= ends.at(-1)!) break;
    ends.push(end);
    times.push(Number(m[2]));
  }
  return { ends, times };
}

/** The time of the byte at `offset`: its entry's, or `unseen` past the last entry (written since, or never indexed). */
export function timeAt(t: LogTimes, offset: number, unseen: number): number {
  let lo = 0, hi = t.ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (t.ends[mid] > offset) hi = mid; else lo = mid + 1;
  }
  return lo < t.ends.length ? t.times[lo] : unseen;
}

/** How often a file is looked at without an inotify watch (limits, a filesystem without them). */
const SAFETY_LOOK_MS = 1000;
/** How often a file inotify watches is looked at even without an event (a missed one): a stat a second of each of
 * 1,000 containers' logs was a steady cost of serve's loop. */
const WATCHED_LOOK_MS = 10_000;

/** Watches one log file. Every step is synchronous, so a look and a rotation's shift never interleave. */
class Stamper {
  /** Bytes of the file already indexed: the last entry's end. */
  private seen: number;
  private watcher?: FSWatcher;
  private timer: NodeJS.Timeout;
  private scheduled = false;
  private cutting = false;
  users = 1;

  constructor(readonly log: string) {
    const text = timesText(log);
    const known = parseLogTimes(text);
    this.seen = known.ends.at(-1) ?? 0;
    rewriteIfTorn(log, known, text);
    // What was written while nobody watched: by the file's last write at the latest.
    this.look((() => { try { return Math.min(Date.now(), statSync(log).mtimeMs); } catch { return Date.now(); } })());
    try {
      this.watcher = watch(log, { persistent: false }, () => this.schedule());
      this.watcher.on('error', () => {
        this.watcher?.close();
        this.watcher = undefined;
        this.lookEvery(SAFETY_LOOK_MS);
      });
    } catch {
      // No inotify for this file (limits, filesystem): the safety look alone, at its coarser precision.
    }
    this.timer = this.lookEvery(this.watcher ? WATCHED_LOOK_MS : SAFETY_LOOK_MS);
  }

  private lookEvery(ms: number): NodeJS.Timeout {
    clearInterval(this.timer);
    this.timer = setInterval(() => this.look(), ms);
    this.timer.unref();
    return this.timer;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => { this.scheduled = false; this.look(); });
  }

  /** Indexes what the file gained since the last look, as seen at `at`. */
  look(at = Date.now()): void {
    if (this.cutting) return;
    let size: number;
    try {
      size = statSync(this.log).size;
    } catch {
      return; // removed with its pod, or renamed: nothing to index
    }
    try {
      if (size < this.seen) {
        // Cut by someone else than our rotation (truncated by hand): what is there now is all new.
        writeFileSync(logTimesFile(this.log), '');
        this.seen = 0;
      }
      if (size <= this.seen) return;
      appendFileSync(logTimesFile(this.log), `${size} ${Math.round(at)}\n`);
      this.seen = size;
    } catch {
      // The pod's folder removed meanwhile: nothing left to index.
    }
  }

  beginCut(): void {
    this.look();
    this.cutting = true;
  }

  endCut(length: number): void {
    this.seen = Math.max(0, this.seen - length);
    this.cutting = false;
    this.look();
  }

  close(): void {
    this.look();
    this.watcher?.close();
    clearInterval(this.timer);
  }
}

/** After a crash mid-append the index ends in a torn entry: rewritten whole, so the next appends are read. */
function rewriteIfTorn(log: string, known: LogTimes, text: string): void {
  const whole = known.ends.map((e, i) => `${e} ${known.times[i]}\n`).join('');
  if (text !== whole) writeTimes(log, whole);
}

function writeTimes(log: string, text: string): void {
  writeFileWholeSync(logTimesFile(log), text);
}

const stampers = new Map<string, Stamper>();

/** Starts indexing `log` (a process container's, from its start or its adoption); the returned function ends it. */
export function watchLogTimes(log: string): () => void {
  const existing = stampers.get(log);
  if (existing) existing.users++;
  const stamper = existing ?? new Stamper(log);
  stampers.set(log, stamper);
  let done = false;
  return () => {
    if (done) return;
    done = true;
    if (--stamper.users > 0) return;
    stampers.delete(log);
    stamper.close();
  };
}

/** Indexes now what a watched log gained since its last look (a reader is about to read it). */
export function lookAtLogTimes(log: string): void {
  stampers.get(log)?.look();
}

/** A rotation is about to cut the head of `log`: its watcher pauses (after indexing what is there). */
export function beginLogCut(log: string): void {
  stampers.get(log)?.beginCut();
}

/**
 * The first `length` bytes of `log` were cut out (Infinity: it was emptied): its index drops them and shifts the
 * rest, so every line left keeps its time; the watcher goes on.
 */
export function endLogCut(log: string, length: number): void {
  const t = readLogTimes(log);
  let text = '';
  if (length !== Infinity) {
    for (let i = 0; i < t.ends.length; i++) if (t.ends[i] > length) text += `${t.ends[i] - length} ${t.times[i]}\n`;
  }
  if (t.ends.length) writeTimes(log, text);
  stampers.get(log)?.endCut(length);
}
