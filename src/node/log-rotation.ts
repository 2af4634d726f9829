// Container log rotation as the kubelet's container log manager does it (pkg/kubelet/logs/container_log_manager.go):
// every monitor interval each running container's log file over --container-log-max-size is rotated: it becomes
// `<log>.<YYYYMMDD-HHMMSS>`, older rotated files are gzipped, and at most --container-log-max-files files are kept,
// the current one included. Runtimes that write the file through a monitor (podman: conmon) are asked to reopen it
// after a rename; a process container writes its file itself (it must, to outlive serve), so its file is copied
// and the copied part cut out of it in place (fallocate --collapse-range): nothing it writes meanwhile is lost.
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat, truncate } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { promisify } from 'node:util';
import { createGzip } from 'node:zlib';
import { readPidsFile } from './pids-file.ts';
import { beginLogCut, endLogCut } from './log-times.ts';
import type { ContainerRecord, Runtime } from './runtime/runtime.ts';

export interface LogRotationOptions {
  /** --container-log-max-size: a file over this many bytes is rotated (kubelet default 10Mi). */
  maxSizeBytes: number;
  /** --container-log-max-files: files kept per container, the current one included (kubelet default 5, at least 2). */
  maxFiles: number;
}

export const DEFAULT_LOG_ROTATION: LogRotationOptions = { maxSizeBytes: 10 * 1024 * 1024, maxFiles: 5 };

/** The rotated files of `log` (`<log>.<stamp>` and `<log>.<stamp>.gz`), oldest first. */
export async function rotatedLogs(log: string): Promise<string[]> {
  const prefix = `${basename(log)}.`;
  const names = await readdir(dirname(log)).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix) && /^\d{8}-\d{6}(\.gz)?$/.test(n.slice(prefix.length))).sort().map((n) => join(dirname(log), n));
}

/** `20261203-201207`: the kubelet's stamp (UTC). */
const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);

/**
 * Rotates `log` if it is over the size: true when it did. `reopen` asks the runtime to write a new file at the path;
 * without it the file is cut in place. Safe to call for a file that is gone (false).
 */
export async function rotateLog(log: string, opts: LogRotationOptions, reopen?: () => Promise<void>, now = new Date()): Promise<boolean> {
  const st = await stat(log).catch(() => undefined);
  if (!st || st.size < opts.maxSizeBytes) return false;
  let rotated = await rotatedLogs(log);
  // Room for the one made now: current + (maxFiles - 1) rotated, so maxFiles - 2 of the old ones stay.
  const keep = Math.max(0, opts.maxFiles - 2);
  for (const f of rotated.slice(0, Math.max(0, rotated.length - keep))) await rm(f, { force: true });
  rotated = rotated.slice(Math.max(0, rotated.length - keep));
  const target = `${log}.${stamp(now)}`;
  if (rotated.some((f) => f === target || f === `${target}.gz`)) return false; // rotated this second already
  if (reopen) {
    await rename(log, target);
    try {
      await reopen();
    } catch (e) {
      await rename(target, log).catch(() => {}); // the container is gone: its file stays as it was
      throw e;
    }
  } else if (!(await cutInPlace(log, target, st.blksize || 4096))) {
    return false;
  }
  // The older rotated files are compressed; the one made now is not (a follow may still be reading its end).
  for (const f of rotated) if (!f.endsWith('.gz')) await gzip(f);
  return true;
}

/**
 * Copies the file's first whole blocks to `target`, then removes exactly them from the file's head while its writer
 * goes on appending (O_APPEND writes land at the new end): the collapse is atomic, so no byte is lost or doubled.
 * Where the filesystem cannot collapse (tmpfs, NFS) it falls back to copy-truncate, which may lose what is written
 * between the copy and the truncate (as logrotate's copytruncate says of itself). The rotated file is named only
 * after the cut: a follower (logs.ts) takes its appearance as the sign that its size was cut from the head.
 */
async function cutInPlace(log: string, target: string, block: number): Promise<boolean> {
  const { size } = await stat(log);
  const length = Math.floor(size / block) * block;
  if (length === 0) return false; // under one block: collapse works in whole blocks
  await copyRange(log, `${target}.tmp`, length);
  // The file's time index (log-times.ts) is shifted with the cut; its watcher pauses meanwhile.
  beginLogCut(log);
  let cut = 0;
  try {
    await promisify(execFile)('fallocate', ['--collapse-range', '--offset', '0', '--length', String(length), log]);
    cut = length;
  } catch {
    await copyRange(log, `${target}.tmp`, Infinity);
    await truncate(log, 0);
    cut = Infinity;
  } finally {
    endLogCut(log, cut);
  }
  await rename(`${target}.tmp`, target);
  return true;
}

async function copyRange(from: string, to: string, length: number): Promise<void> {
  await pipeline(createReadStream(from, length === Infinity ? {} : { start: 0, end: length - 1 }), createWriteStream(to));
}

async function gzip(file: string): Promise<void> {
  await pipeline(createReadStream(file), createGzip(), createWriteStream(`${file}.gz.tmp`));
  await rename(`${file}.gz.tmp`, `${file}.gz`);
  await rm(file, { force: true });
}

export interface LogRotatorOptions extends LogRotationOptions {
  pidsFile: string;
  runtime: Runtime;
  /** --container-log-monitor-interval: how often files are looked at (kubelet default 10 s). */
  intervalMs?: number;
  log?: (msg: string) => void;
}

/** Looks at the log files of the containers recorded in pids.json (the node's running containers) every interval. */
export function startLogRotator(opts: LogRotatorOptions): { stop(): Promise<void> } {
  let running: Promise<void> = Promise.resolve();
  const reopen = (record: ContainerRecord) => (opts.runtime.reopenLog ? () => opts.runtime.reopenLog!(record) : undefined);
  const tick = async () => {
    for (const e of readPidsFile(opts.pidsFile)) {
      await rotateLog(e.launch.logFile, opts, reopen(e.record))
        .catch((err) => opts.log?.(`log rotation: ${e.launch.id}: ${(err as Error).message}`));
    }
  };
  const timer = setInterval(() => { running = running.then(tick); }, opts.intervalMs ?? 10_000);
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
