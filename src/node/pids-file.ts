// The containers this node runs, kept in <dataDir>/nodes/<node>/pids.json: for each (pod uid, container) the
// runtime's record of its current instance and what it was launched with. Containers outlive `serve` (stopped or
// killed); the next start hands each record back to the runtime to re-adopt it, and `convergit stop` reads it to
// stop them all. Rewritten whole and renamed into place, so a crash never leaves half a file.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { ContainerLaunch, ContainerRecord } from './runtime/runtime.ts';

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

  constructor(readonly file: string) {}

  /** What a previous run recorded. Kept until the caller removes what it could not re-adopt, so a crash meanwhile loses nothing. */
  load(): PidEntry[] {
    const found = readPidsFile(this.file);
    this.entries.clear();
    for (const e of found) this.entries.set(keyOf(e.podUID, e.container), e);
    return found;
  }

  add(entry: PidEntry): void {
    this.entries.set(keyOf(entry.podUID, entry.container), entry);
    this.write();
  }

  /** Forgets the instance, unless a newer one of the same container has been recorded meanwhile. */
  remove(podUID: string, container: string, record?: ContainerRecord): void {
    const key = keyOf(podUID, container);
    const e = this.entries.get(key);
    if (!e || (record && e.record !== record)) return;
    this.entries.delete(key);
    this.write();
  }

  private pending = false;

  /**
   * Written once for all the changes of one turn of the event loop: a burst of 100 containers starting or stopping
   * rewrote the whole file (every entry) 100 times, synchronously. A serve exiting first still writes it.
   */
  private write(): void {
    if (this.pending) return;
    this.pending = true;
    process.once('exit', this.flush);
    setImmediate(this.flush);
  }

  private readonly flush = (): void => {
    if (!this.pending) return;
    this.pending = false;
    process.off('exit', this.flush);
    mkdirSync(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify([...this.entries.values()]));
    renameSync(tmp, this.file);
  };
}

/** The entries of a pids.json; an unreadable or older-format file is empty (what it named is then restarted). */
export function readPidsFile(file: string): PidEntry[] {
  try {
    const v = JSON.parse(readFileSync(file, 'utf8'));
    return Array.isArray(v) ? v.filter((e) => e && typeof e.podUID === 'string' && typeof e.container === 'string' && e.record && e.launch) : [];
  } catch {
    return [];
  }
}
