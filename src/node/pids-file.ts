// The process groups this node's containers run in, kept in <dataDir>/nodes/<node>/pids.json, so that after a crash
// (serve killed with SIGKILL) the next start can kill what was left running. A process counts as ours only when it is
// in a recorded group and its environment carries the recorded pod's CONVERGIT_POD_UID: a recycled pid is left alone.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { POD_UID_VAR } from './env.ts';

export interface PidEntry { podUID: string; container: string }

export class PidsFile {
  private readonly entries = new Map<number, PidEntry>();

  constructor(readonly file: string) {}

  add(pgid: number, entry: PidEntry): void {
    this.entries.set(pgid, entry);
    this.write();
  }

  remove(pgid: number): void {
    if (this.entries.delete(pgid)) this.write();
  }

  /** Written whole and renamed into place, so a crash never leaves half a file. */
  private write(): void {
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(Object.fromEntries(this.entries), null, 1));
    renameSync(tmp, this.file);
  }

  /** Kills (SIGKILL) what a previous run left behind and waits until it is gone; returns how many processes. Linux only (/proc). */
  async reapLeftovers(timeoutMs = 5000): Promise<number> {
    let recorded: Record<string, PidEntry>;
    try {
      recorded = JSON.parse(readFileSync(this.file, 'utf8'));
    } catch {
      recorded = {};
    }
    const groups = new Map(Object.entries(recorded).map(([pgid, e]) => [Number(pgid), e.podUID]));
    if (groups.size === 0) return 0; // nothing recorded (a clean stop, or a hollow node): no need to read /proc
    const ours = () => listProcesses().filter((p) => p.state !== 'Z' && groups.has(p.pgrp) && environHas(p.pid, `${POD_UID_VAR}=${groups.get(p.pgrp)}`));
    const found = ours();
    for (const p of found) {
      try { process.kill(p.pid, 'SIGKILL'); } catch { /* already gone */ }
    }
    const deadline = Date.now() + timeoutMs;
    while (ours().length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.entries.clear();
    this.write();
    return found.length;
  }
}

interface ProcInfo { pid: number; state: string; pgrp: number }

function listProcesses(): ProcInfo[] {
  let names: string[];
  try {
    names = readdirSync('/proc').filter((n) => /^\d+$/.test(n));
  } catch {
    return [];
  }
  const out: ProcInfo[] = [];
  for (const n of names) {
    try {
      const stat = readFileSync(`/proc/${n}/stat`, 'utf8');
      // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so split after the last ')'.
      const [state, , pgrp] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(n), state, pgrp: Number(pgrp) });
    } catch { /* exited meanwhile */ }
  }
  return out;
}

function environHas(pid: number, entry: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'latin1').split('\0').includes(entry);
  } catch {
    return false;
  }
}
