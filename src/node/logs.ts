// Container log files under the data folder, and reading them as `kubectl logs` does (tail, previous, errors). As the
// kubelet, `kubectl logs` reads a run's current file; rotated ones (log-rotation.ts) are kept beside it, and a follow
// goes on across a rotation.
import { open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KubeObject } from '../model/object.ts';
import { rotatedLogs } from './log-rotation.ts';
import { lookAtLogTimes, readLogTimes, timeAt } from './log-times.ts';

export interface PodRef { namespace?: string; name: string; uid?: string }

export interface LogOptions {
  container?: string;
  /** Only the last N lines. */
  tailLines?: number;
  /** The container's previous run instead of the current one. */
  previous?: boolean;
  /** At most this many bytes (of what tailLines selected, from its start). */
  limitBytes?: number;
  /** Only lines written at or after this time (kubectl logs --since / --since-time). */
  since?: Date;
  /** Each line prefixed with the RFC 3339 time it was written (kubectl logs --timestamps). */
  timestamps?: boolean;
}

/**
 * A log line in the CRI format the kubelet writes (`<RFC3339Nano> <stdout|stderr> <F|P> <text>`; P: a partial line
 * continued by the next). Files may also hold plain lines (the process runtime writes what the process prints): those
 * have no time of their own and are shown as they are.
 */
const CRI_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) (F|P) ?(.*)$/;

/** One CRI line for `text` written at `at` (what a runtime that timestamps its output appends). */
export const criLine = (at: Date, stream: 'stdout' | 'stderr', text: string) => `${at.toISOString().replace('Z', '000000Z')} ${stream} F ${text}\n`;

/** Where a piece of log text sits in its file, and when each byte of that file was first seen (plain lines). */
export interface LogClock { start: number; timeOf(offset: number): number }

/** A time as the kubelet prints it for `--timestamps` (RFC 3339, nine fraction digits, UTC). */
const kubeletTime = (ms: number) => new Date(ms).toISOString().replace('Z', '000000Z');

/**
 * What kubectl shows of log text: CRI lines stripped to their text (with their time under `timestamps`), lines
 * before `since` dropped. Plain lines (the process runtime's) take their time from `clock` (log-times.ts); without
 * one they are shown as they are, untimed.
 */
export function presentLog(text: string, opts: Pick<LogOptions, 'since' | 'timestamps'>, clock?: LogClock): string {
  if (!text) return text;
  let out = '';
  const lines = text.split('\n');
  const last = lines.pop()!; // text after the final newline: an unfinished line, shown as it is
  const since = opts.since?.getTime();
  let offset = clock?.start ?? 0;
  const plain = (line: string, nl: string) => {
    const at = clock?.timeOf(offset);
    offset += Buffer.byteLength(line) + nl.length;
    if (since !== undefined && at !== undefined && at < since) return;
    out += (opts.timestamps && at !== undefined ? `${kubeletTime(at)} ` : '') + line + nl;
  };
  for (const line of lines) {
    const m = CRI_LINE.exec(line);
    if (!m) {
      plain(line, '\n');
      continue;
    }
    offset += Buffer.byteLength(line) + 1;
    if (since !== undefined && Date.parse(m[1]) < since) continue;
    // In UTC as the kubelet prints it (conmon writes +00:00).
    out += (opts.timestamps ? `${m[1].replace(/\+00:00$/, 'Z')} ` : '') + m[4] + (m[3] === 'F' ? '\n' : '');
  }
  if (last) plain(last, '');
  return out;
}

/** The clock of `file` for text read from `start`: its time index, and its mtime for what the index has not seen. */
async function clockOf(file: string, start: number): Promise<LogClock> {
  lookAtLogTimes(file); // a live watcher indexes what it has not seen yet
  const times = readLogTimes(file);
  const mtime = (await stat(file).catch(() => undefined))?.mtimeMs ?? Date.now();
  return { start, timeOf: (o) => timeAt(times, o, mtime) };
}

/** A log request Kubernetes would refuse: `status` is the HTTP status the API answers with. */
export class LogError extends Error {
  override name = 'LogError';
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** `<dataDir>/pods/<namespace>_<pod>_<uid>`: every log of one pod (one pod incarnation, by uid). */
export const podLogDir = (dataDir: string, pod: PodRef) =>
  join(dataDir, 'pods', `${pod.namespace ?? 'default'}_${pod.name}_${pod.uid ?? ''}`);

/** `<podLogDir>/<container>/<restartCount>.log`: one file per run of a container. */
export const containerLogFile = (dataDir: string, pod: PodRef, container: string, restartCount: number) =>
  join(podLogDir(dataDir, pod), container, `${restartCount}.log`);

/** Removes a pod's logs, once the pod object itself is gone. */
export const removePodLogs = (dataDir: string, pod: PodRef) => rm(podLogDir(dataDir, pod), { recursive: true, force: true });

const podRef = (pod: KubeObject): PodRef => ({ namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid });

/**
 * The file `kubectl logs` would read: the run numbered by the container's restartCount (or, until it has a log, the
 * latest one before it), or with `previous` the run before that. Throws LogError as the API server would.
 */
async function podLogFile(dataDir: string, pod: KubeObject, opts: Pick<LogOptions, 'container' | 'previous'> = {}): Promise<string> {
  const podName = pod.metadata.name;
  const names = (pod.spec?.containers ?? []).map((c: { name: string }) => c.name) as string[];
  const initNames = (pod.spec?.initContainers ?? []).map((c: { name: string }) => c.name) as string[];
  let container = opts.container;
  if (!container) {
    if (names.length !== 1) {
      const init = initNames.length ? ` or one of the init containers: [${initNames.join(' ')}]` : '';
      throw new LogError(400, `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]${init}`);
    }
    container = names[0];
  }
  if (!names.includes(container) && !initNames.includes(container)) {
    throw new LogError(400, `container ${container} is not valid for pod ${podName}`);
  }
  const statuses = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const status = statuses.find((s: { name: string }) => s.name === container);
  const dir = join(podLogDir(dataDir, podRef(pod)), container);
  // A run is known by its file, or by its rotated files while a rotation has renamed it and not yet made it anew.
  const runs = [...new Set((await readdir(dir).catch(() => [] as string[]))
    .map((f) => /^(\d+)\.log(?:\.\d{8}-\d{6}(?:\.gz)?)?$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number))]
    .sort((a, b) => a - b);
  const restartCount: number = status?.restartCount ?? Infinity;
  const current = runs.filter((n) => n <= restartCount).at(-1) ?? runs.at(-1);
  if (opts.previous) {
    const prev = current === undefined ? undefined : runs.filter((n) => n < current).at(-1);
    if (prev === undefined) throw new LogError(400, `previous terminated container "${container}" in pod "${podName}" not found`);
    return join(dir, `${prev}.log`);
  }
  if (current === undefined) {
    const reason = status?.state?.waiting?.reason ?? 'ContainerCreating';
    throw new LogError(400, `container "${container}" in pod "${podName}" is waiting to start: ${reason}`);
  }
  return join(dir, `${current}.log`);
}

/** A container's log as `kubectl logs` shows it. */
export async function readPodLog(dataDir: string, pod: KubeObject, opts: LogOptions = {}): Promise<string> {
  const file = await podLogFile(dataDir, pod, opts);
  if (!opts.since && !opts.timestamps) return presentLog((await readLog(file, opts)).text, {});
  // limitBytes counts what is shown, so it applies after the lines are filtered.
  const { text, start } = await readLog(file, { ...opts, limitBytes: undefined });
  const shown = presentLog(text, opts, await clockOf(file, start));
  return opts.limitBytes === undefined ? shown : Buffer.from(shown).subarray(0, opts.limitBytes).toString('utf8');
}

/** What tailLines and limitBytes select of `file`, and the offset where reading stopped. */
async function readLog(file: string, opts: LogOptions): Promise<{ text: string; start: number; end: number }> {
  // Renamed by a rotation and not yet made anew: nothing written to it yet.
  const fh = await open(file, 'r').catch((e: NodeJS.ErrnoException) => { if (e.code === 'ENOENT') return undefined; throw e; });
  if (!fh) return { text: '', start: 0, end: 0 };
  try {
    const { size } = await fh.stat();
    const from = opts.tailLines === undefined ? 0 : await tailStart(fh, size, opts.tailLines);
    const length = Math.min(size - from, opts.limitBytes ?? Infinity);
    if (length <= 0) return { text: '', start: from, end: size };
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, from);
    // With limitBytes the rest is skipped, as kubectl does; following goes on from the end of the file.
    return { text: buf.subarray(0, bytesRead).toString('utf8'), start: from, end: opts.limitBytes === undefined ? from + bytesRead : size };
  } finally {
    await fh.close();
  }
}

const CHUNK = 64 * 1024;
const NL = 0x0a;

/** Offset where the last `lines` lines begin, found by reading backwards: a big log is never read whole. */
async function tailStart(fh: FileHandle, size: number, lines: number): Promise<number> {
  if (lines <= 0) return size;
  let end = size;
  // A final newline ends the last line; it does not start an empty one.
  let skip = size > 0 && (await fh.read(Buffer.alloc(1), 0, 1, size - 1)).buffer[0] === NL;
  let seen = 0;
  const buf = Buffer.alloc(CHUNK);
  while (end > 0) {
    const start = Math.max(0, end - CHUNK);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) {
      if (buf[i] !== NL) continue;
      if (skip) { skip = false; continue; }
      if (++seen === lines) return start + i + 1;
    }
    end = start;
  }
  return 0;
}

/**
 * `kubectl logs -f`: what readPodLog returns, then whatever the container appends, until `signal` aborts or the
 * run ends (its file removed, or a newer run's file appears because the container restarted).
 */
export async function followPodLog(dataDir: string, pod: KubeObject, opts: LogOptions, write: (chunk: string) => void,
  signal: AbortSignal, pollMs = 200): Promise<void> {
  const file = await podLogFile(dataDir, pod, opts);
  const first = await readLog(file, opts);
  // Whole lines are presented (a CRI line's prefix is stripped); a partial last line waits for its end.
  let pending = '';
  let pendingStart = first.start; // the file offset where `pending` begins
  const timed = opts.since !== undefined || opts.timestamps;
  const present = async (chunk: string, at: number) => {
    if (!pending) pendingStart = at;
    const text = pending + chunk;
    const cut = text.lastIndexOf('\n') + 1;
    pending = text.slice(cut);
    const whole = text.slice(0, cut);
    if (cut) write(presentLog(whole, opts, timed ? await clockOf(file, pendingStart) : undefined));
    pendingStart += Buffer.byteLength(whole);
  };
  await present(first.text, first.start);
  let offset = first.end; // from exactly where the first read stopped: nothing appended meanwhile is lost
  const runsDir = dirname(file);
  const run = Number(/(\d+)\.log$/.exec(file)![1]);
  const openIfThere = () => open(file, 'r').catch(() => undefined);
  let fh = await openIfThere();
  const newestRotated = async () => (await rotatedLogs(file)).at(-1);
  let rotated = await newestRotated();
  try {
    while (!signal.aborted) {
      await new Promise((r) => setTimeout(r, pollMs));
      if (!fh) {
        fh = await openIfThere(); // a rotation renamed it: its new file appears once the runtime has reopened it
        offset = 0;
        if (!fh && !(await stat(runsDir).catch(() => undefined))) return;
        if (!fh) continue;
      }
      const { size, ino } = await fh.stat();
      const newest = await newestRotated();
      if (newest !== rotated) {
        rotated = newest;
        // Cut in place by a rotation (the process runtime; the file is the same): the head it cut out, which the
        // new rotated file holds, is no longer in front of what is left to read.
        const same = (await stat(file).catch(() => undefined))?.ino === ino;
        if (same && newest) {
          const cut = Math.min(offset, (await stat(newest).catch(() => undefined))?.size ?? 0);
          offset -= cut;
          pendingStart = Math.max(0, pendingStart - cut);
        }
      }
      if (size > offset) {
        const buf = Buffer.alloc(size - offset);
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        await present(buf.subarray(0, bytesRead).toString('utf8'), offset);
        offset += bytesRead;
        continue;
      }
      if (size < offset) continue; // cut, and its rotated file not yet named: seen at the next look
      // All of this file is read: a rotation may have put a new one at its path, or the run may have ended (its
      // logs removed with the pod, or a newer run's file there because the container restarted).
      const now = await stat(file).catch(() => undefined);
      if (now && now.ino !== ino) {
        await fh.close();
        fh = await openIfThere();
        offset = 0;
        continue;
      }
      if (!now && !(await stat(runsDir).catch(() => undefined))) return;
      const newer = (await readdir(runsDir).catch(() => [] as string[])).some((f) => Number(/^(\d+)\.log$/.exec(f)?.[1] ?? -1) > run);
      if (newer) return;
    }
  } finally {
    await fh?.close();
  }
}
