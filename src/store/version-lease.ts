// The store's resourceVersion must never go back, not even after a crash that lost the last writes of state.json
// (they are coalesced, so the file lags the memory by a few ms). Before handing out a version above the lease, the
// store durably records a new lease `block` versions higher; after a crash it resumes above the lease, so every
// version it had handed out (to watches, to clients, to the controllers' caches) stays behind it.
import { readFileSync } from 'node:fs';
import { writeFileDurablySync } from './durable-file.ts';

export class VersionLease {
  private ceiling: number;

  constructor(private readonly file: string, private readonly block = 10_000) {
    this.ceiling = readLease(file);
  }

  /** The highest version a previous run may have handed out. */
  get leased(): number {
    return this.ceiling;
  }

  /** Call before handing out `rv`: extends the lease (a small synchronous durable write) when rv is beyond it. */
  cover(rv: number): void {
    if (rv <= this.ceiling) return;
    const next = rv + this.block;
    writeFileDurablySync(this.file, `${next}\n`);
    this.ceiling = next;
  }

  /** After a complete write of the state at `rv`: nothing beyond it was handed out, so the lease may come back to it. */
  settle(rv: number): void {
    if (rv >= this.ceiling) return;
    writeFileDurablySync(this.file, `${rv}\n`);
    this.ceiling = rv;
  }
}

function readLease(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw e;
  }
  const n = Number(text.trim());
  if (!Number.isSafeInteger(n) || n < 0) throw new Error(`cannot open store: ${file} does not hold a resourceVersion (${JSON.stringify(text.slice(0, 40))}); repair or remove it`);
  return n;
}
