// Container log files under the data folder, and reading them as `kubectl logs` does (tail, previous, errors).
import { open, readdir, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { KubeObject } from '../model/object.ts';

export interface PodRef { namespace?: string; name: string; uid?: string }

export interface LogOptions {
  container?: string;
  /** Only the last N lines. */
  tailLines?: number;
  /** The container's previous run instead of the current one. */
  previous?: boolean;
  /** At most this many bytes (of what tailLines selected, from its start). */
  limitBytes?: number;
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
  const runs = (await readdir(dir).catch(() => [] as string[]))
    .map((f) => /^(\d+)\.log$/.exec(f)?.[1])
    .filter((n): n is string => n !== undefined)
    .map(Number)
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
  return (await readLog(await podLogFile(dataDir, pod, opts), opts)).text;
}

/** What tailLines and limitBytes select of `file`, and the offset where reading stopped. */
async function readLog(file: string, opts: LogOptions): Promise<{ text: string; end: number }> {
  const fh = await open(file, 'r');
  try {
    const { size } = await fh.stat();
    const from = opts.tailLines === undefined ? 0 : await tailStart(fh, size, opts.tailLines);
    const length = Math.min(size - from, opts.limitBytes ?? Infinity);
    if (length <= 0) return { text: '', end: size };
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, from);
    // With limitBytes the rest is skipped, as kubectl does; following goes on from the end of the file.
    return { text: buf.subarray(0, bytesRead).toString('utf8'), end: opts.limitBytes === undefined ? from + bytesRead : size };
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
  write(first.text);
  let offset = first.end; // from exactly where the first read stopped: nothing appended meanwhile is lost
  const runsDir = dirname(file);
  const run = Number(/(\d+)\.log$/.exec(file)![1]);
  while (!signal.aborted) {
    await new Promise((r) => setTimeout(r, pollMs));
    const size = await stat(file).then((s) => s.size, () => undefined);
    if (size === undefined) return;
    if (size > offset) {
      const fh = await open(file, 'r');
      try {
        const buf = Buffer.alloc(size - offset);
        const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
        offset += bytesRead;
        write(buf.subarray(0, bytesRead).toString('utf8'));
      } finally {
        await fh.close();
      }
      continue;
    }
    const newer = (await readdir(runsDir).catch(() => [] as string[])).some((f) => Number(/^(\d+)\.log$/.exec(f)?.[1] ?? -1) > run);
    if (newer) return;
  }
}
