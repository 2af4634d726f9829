// The pids in /proc, and which of them may name a process other than at the previous look: what lets a periodic
// scan of every process (the housekeeping's, the usage reporter's) keep what it learnt of a process that is still
// there and read only the new ones, so its cost follows what changed on the machine rather than its size.
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';

interface Counters { lastPid: number; forks: number }

/** The last pid handed out (/proc/loadavg's last field) and the forks since boot (/proc/stat's `processes`). */
function counters(): Counters | undefined {
  try {
    const lastPid = Number(readFileSync('/proc/loadavg', 'latin1').trim().split(' ').pop());
    const forks = Number(/^processes (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'))?.[1]);
    return Number.isSafeInteger(lastPid) && Number.isSafeInteger(forks) ? { lastPid, forks } : undefined;
  } catch {
    return undefined;
  }
}

let pidMax: number | undefined;
const maxPid = () => (pidMax ??= (() => {
  try { return Number(readFileSync('/proc/sys/kernel/pid_max', 'latin1')) || 4_194_304; } catch { return 4_194_304; }
})());

export interface ProcLook {
  pids: number[];
  /** The pid may have been handed out since the previous look (a new process, or a reused pid): look at it afresh. */
  fresh(pid: number): boolean;
}

/**
 * Successive looks at /proc. The kernel hands pids out in increasing order, wrapping at pid_max, so every pid handed
 * out between two looks lies between the last pid handed out before the first and the last one after the second;
 * when more forks than half of pid_max happened meanwhile, every pid counts as fresh.
 */
export class ProcPids {
  private prev?: Counters;

  async look(): Promise<ProcLook> {
    const before = counters();
    const pids = (await readdir('/proc').catch(() => [] as string[])).filter((n) => /^\d+$/.test(n)).map(Number);
    const after = counters();
    const prev = this.prev;
    this.prev = before;
    if (!prev || !before || !after || after.forks - prev.forks >= maxPid() / 2) return { pids, fresh: () => true };
    const from = prev.lastPid;
    const to = after.lastPid;
    const fresh = to >= from ? (pid: number) => pid > from && pid <= to : (pid: number) => pid > from || pid <= to;
    return { pids, fresh };
  }
}

/** /proc files read per turn of the event loop. */
const PER_TURN = 32;

/**
 * The fields of a /proc/<pid>/stat text after its `(comm)`, which may hold spaces and parentheses (so split after the
 * last ')'): [0] state, [1] ppid, [2] pgrp, … (proc(5)'s field n at n − 3).
 */
export const statFields = (text: string): string[] => text.slice(text.lastIndexOf(')') + 2).split(' ');

/**
 * The fields (statFields) of `/proc/<pid>/stat` for each pid (undefined where it cannot be read: gone meanwhile),
 * read synchronously, a batch per turn of the event loop. Only `stat`, which the kernel answers without waiting on the
 * process: `environ` and `cmdline` wait for its memory map, which a process being exec'd holds (a synchronous read of
 * new processes' environments held serve's loop 176 ms). Node's read of a whole small file in one call (readFileSync)
 * costs the loop far less than an asynchronous read: fs/promises makes a FileHandle and four round trips, and both it
 * and the callback form allocate 64 KiB for a file whose size stat gives as 0, as every /proc file's (1,000 pods
 * started: ~0.5 s of serve's loop in those allocations alone). The turns keep a scan of thousands of processes from
 * holding the loop, and one descriptor is open at a time.
 */
export async function readProcStats(pids: readonly number[]): Promise<(string[] | undefined)[]> {
  const out: (string[] | undefined)[] = [];
  for (let i = 0; i < pids.length; i++) {
    if (i > 0 && i % PER_TURN === 0) await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      out.push(statFields(readFileSync(`/proc/${pids[i]}/stat`, 'utf8')));
    } catch {
      out.push(undefined);
    }
  }
  return out;
}
