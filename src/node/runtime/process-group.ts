// A container is a process group: signal it as a whole, and know when every member is gone.
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { readProcStats, statFields } from './proc-pids.ts';

/** USER_HZ: the unit of /proc's clock ticks (a process's start time, utime and stime), 100 on every Linux architecture Node runs on. */
export const TICKS_PER_SECOND = 100;

export interface ProcStat {
  /** R, S, D, Z (zombie), X (dead) … */
  state: string;
  ppid: number;
  pgrp: number;
  /** Field 22: clock ticks after boot when the process started. With the pid, it names one process for good. */
  startTime: string;
}

/** /proc/<pid>/stat of a process, or undefined when there is none (Linux only). */
export function procStat(pid: number): ProcStat | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  const f = statFields(stat);
  return { state: f[0], ppid: Number(f[1]), pgrp: Number(f[2]), startTime: f[19] };
}

/** The process `pid` that started at `startTime` is still alive (not a zombie). */
export function isSameProcessAlive(pid: number, startTime: string): boolean {
  const st = procStat(pid);
  return !!st && st.startTime === startTime && st.state !== 'Z' && st.state !== 'X';
}

/** Sends `signal` to every process in group `pgid`; false when the group no longer exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw e;
  }
}

/**
 * Whether any live process is still in group `pgid`. On Linux /proc is read so that zombies count as gone: an
 * orphan reparented to an init that never reaps (common in containers) would otherwise keep the group "alive".
 */
async function groupAlive(pgid: number): Promise<boolean> {
  // No member at all, zombies included (kill(2) finds those): gone, without the scan of every process on the machine
  // (which, a scan every 10 ms for each of 1,000 containers being stopped, was most of a big deletion's CPU).
  if (!signalGroup(pgid, 0)) return false;
  if (process.platform !== 'linux') return true;
  return (await liveGroups()).has(pgid);
}

let scan: Promise<Set<number>> | undefined;

/**
 * The groups with a live member, from one scan of /proc shared by every caller waiting meanwhile: `convergit stop`
 * waits on a hundred groups at once, and a scan each (one open file per process, all at once) ran out of file
 * descriptors, whose failed reads then made live groups look gone.
 */
function liveGroups(): Promise<Set<number>> {
  scan ??= readLiveGroups().finally(() => { scan = undefined; });
  return scan;
}

async function readLiveGroups(): Promise<Set<number>> {
  const pids = (await readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n)).map(Number);
  const live = new Set<number>();
  for (const f of await readProcStats(pids)) {
    if (f && f[0] !== 'Z' && f[0] !== 'X') live.add(Number(f[2])); // none: gone meanwhile
  }
  return live;
}

/** Resolves once group `pgid` has no live member, or after `timeoutMs` (a process stuck in the kernel cannot be waited for forever). */
export async function groupGone(pgid: number, timeoutMs = 2000, intervalMs = 10): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  // Looked at again after 10 ms, then less and less often (up to 100 ms): a member that outlives a SIGKILL is stuck
  // in the kernel or a zombie nobody reaps, and a scan of /proc is not free.
  for (let wait = intervalMs; await groupAlive(pgid); wait = Math.min(wait * 2, 10 * intervalMs)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, wait));
  }
  return true;
}
