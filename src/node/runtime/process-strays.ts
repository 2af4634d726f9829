// Process containers that no pids.json entry records: started, then serve was killed before it wrote the record
// (between the spawn and the write, which a loaded machine can stretch to many milliseconds). The kubelet finds such
// containers by listing the runtime's own; a host process has no runtime to list, so they are found in /proc by what
// convergit puts in every container's environment: its pod's uid, and a termination-message path inside the data
// folder (which tells this folder's containers from another serve's).
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { sep } from 'node:path';
import { groupGone, procStat, signalGroup, TICKS_PER_SECOND } from './process-group.ts';
import { POD_UID_VAR } from '../env.ts';
import { ProcPids } from './proc-pids.ts';

export interface Stray { pid: number; podUID: string }

/**
 * Per data folder: the processes already found to be none of its containers (no mark in their environment), which
 * stay so while they live. Every node of a serve looks for strays every 10 s; reading every process's environment
 * each time (thousands on a busy machine) was most of that, and it only has to look at processes new since.
 */
const scans = new Map<string, { proc: ProcPids; foreign: Set<number> }>();

/** Leaders of process groups started for `dataDir`'s containers whose pid is not in `recorded`. */
export async function findStrays(dataDir: string, recorded: ReadonlySet<number>): Promise<Stray[]> {
  const mark = `CONVERGIT_TERMINATION_MESSAGE_PATH=${dataDir}${sep}`;
  let scan = scans.get(dataDir);
  if (!scan) scans.set(dataDir, (scan = { proc: new ProcPids(), foreign: new Set() }));
  const { foreign } = scan;
  const { pids, fresh } = await scan.proc.look();
  const present = new Set(pids);
  for (const pid of foreign) if (!present.has(pid) || fresh(pid)) foreign.delete(pid);
  const unknown = pids.filter((pid) => pid !== process.pid && !recorded.has(pid) && !foreign.has(pid));
  const uptime = uptimeSeconds();
  const strays: Stray[] = [];
  for (let i = 0; i < unknown.length; i += 32) { // a descriptor per read: a few at a time
    await Promise.all(unknown.slice(i, i + 32).map(async (pid) => {
      const env = await readFile(`/proc/${pid}/environ`, 'latin1').catch(() => undefined); // not ours to read, or gone
      if (env === undefined) return;
      if (!env.includes(mark)) {
        // Forked but not yet exec'd, a process still shows its parent's environment (the container helper's, no mark):
        // one that young is looked at again next time rather than taken for foreign for its whole life.
        if (!young(pid, uptime)) foreign.add(pid);
        return;
      }
      const st = procStat(pid);
      if (!st || st.pgrp !== pid || st.state === 'Z' || st.state === 'X') return; // a member of a group: its leader decides
      // A group a container's own process made (setsid) is that container's: only one whose parent is not ours
      // (its parent, the killed serve, is gone) was started by serve.
      if ((await readFile(`/proc/${st.ppid}/environ`, 'latin1').catch(() => '')).includes(mark)) return;
      const uid = env.split('\0').find((e) => e.startsWith(`${POD_UID_VAR}=`))?.slice(POD_UID_VAR.length + 1);
      if (uid) strays.push({ pid, podUID: uid });
    }));
  }
  return strays;
}

/** How long after its start a process without the mark may still be one of ours between its fork and its exec. */
const YOUNG_S = 2;

function uptimeSeconds(): number | undefined {
  try { return Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]); } catch { return undefined; }
}

/** The process started less than YOUNG_S ago (unknown: counted as young, so it is looked at again). */
function young(pid: number, uptime: number | undefined): boolean {
  const start = Number(procStat(pid)?.startTime);
  return uptime === undefined || !Number.isFinite(start) || uptime - start / TICKS_PER_SECOND < YOUNG_S;
}

/** Kills each stray's process group and waits for it: its pod's worker starts the container again, recorded. */
export async function removeStrays(strays: Stray[]): Promise<void> {
  for (const s of strays) signalGroup(s.pid, 'SIGKILL');
  await Promise.all(strays.map((s) => groupGone(s.pid)));
}
