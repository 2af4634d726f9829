// state.json through lowdb: compact JSON, one write at a time, bursts of changes coalesced into one write, each
// write durable and atomic (durable-file.ts): a crash at any instant leaves the previous or the new state.
import { readFile } from 'node:fs/promises';
import { Low, type Adapter } from 'lowdb';
import type { KubeObject } from '../model/object.ts';
import { writeFileDurably } from './durable-file.ts';

export interface StateFile {
  version: 1;
  /** The store-wide counter, persisted so versions keep rising across restarts. */
  resourceVersion: number;
  objects: KubeObject[];
  meta: Record<string, unknown>;
}

export const emptyState = (): StateFile => ({ version: 1, resourceVersion: 0, objects: [], meta: {} });

/** Reads the file; a missing file is an empty store, anything unreadable is an error naming the file. */
export async function loadState(file: string): Promise<Low<StateFile>> {
  const db = new Low<StateFile>(new DurableStateFile(file), emptyState());
  try {
    await db.read();
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    // Never start empty over a damaged file: the next write would erase whatever is left in it.
    throw new Error(`cannot open store: ${file} is not a readable convergit state file (${why}); repair or move it away`, { cause: err });
  }
  return db;
}

/** lowdb's adapter for state.json: lowdb keeps the data, this reads it checked and writes it durably. */
class DurableStateFile implements Adapter<StateFile> {
  constructor(private readonly file: string) {}

  async read(): Promise<StateFile | null> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw e;
    }
    return parseState(this.file, text);
  }

  write(data: StateFile): Promise<void> {
    const text = JSON.stringify(data); // synchronously: later changes wait for the next write
    return writeFileDurably(this.file, text);
  }
}

function parseState(file: string, text: string): StateFile {
  const s = JSON.parse(text) as Partial<StateFile> | null;
  const bad = (what: string) => new Error(`${what} in ${file}`);
  if (!s || typeof s !== 'object' || Array.isArray(s)) throw bad('not a JSON object');
  if (s.version !== 1) throw bad(`unknown version ${JSON.stringify(s.version)}`);
  if (!Number.isSafeInteger(s.resourceVersion) || s.resourceVersion! < 0) throw bad('bad resourceVersion');
  if (!Array.isArray(s.objects)) throw bad('objects is not a list');
  for (const o of s.objects) {
    if (typeof o?.kind !== 'string' || typeof o?.metadata?.name !== 'string') throw bad('an object without kind or metadata.name');
  }
  if (!s.meta || typeof s.meta !== 'object' || Array.isArray(s.meta)) throw bad('meta is not an object');
  return s as StateFile;
}

/** Writes the store's snapshot at most once per `delay` ms while changes keep coming, never two writes at once. */
export class Persister {
  readonly stats = { writes: 0 };
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;
  /** The write in flight (or a resolved promise); each write chains after the previous one. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly db: Low<StateFile>,
    private readonly snapshot: () => StateFile,
    private readonly delay: number,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Something changed: write within `delay` ms, together with whatever else changes meanwhile. */
  markDirty(): void {
    this.dirty = true;
    this.arm(this.delay);
  }

  /** Writes pending changes now, after any write in flight. */
  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    return this.write();
  }

  private arm(ms: number, retry = false): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.write().catch((err) => {
        this.onError(err);
        this.arm(Math.max(this.delay, 1000), true); // retry, but do not spin on a full disk
      });
    }, ms);
    // A pending change keeps the process alive until written; a failing retry alone must not keep it alive forever.
    if (retry) this.timer.unref();
  }

  private write(): Promise<void> {
    const job = this.chain.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      this.db.data = this.snapshot();
      this.stats.writes++;
      try {
        await this.db.write();
      } catch (err) {
        this.dirty = true;
        throw err;
      }
    });
    this.chain = job.catch(() => {});
    return job;
  }
}

/** The state file of a data folder, read without opening a store: safe while a `serve` owns the folder. */
export async function readStateFile(file: string): Promise<StateFile> {
  return (await loadState(file)).data;
}
