// state.journal: the changes written since state.json's snapshot, appended one record per write, so a write costs
// what changed rather than the whole store. A record is one line, `<crc32 hex> <json>\n`, appended in one write
// and made durable (fdatasync) before the next. A crash can only tear the last record: it fails its checksum or
// lacks its newline, and is ignored; the writer cuts it off before appending again. A bad record before the last
// is damage, and an error naming the file.
import { crc32 } from 'node:zlib';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import type { KubeObject } from '../model/object.ts';
import { persistedJson } from '../model/stored-json.ts';
import { TimeSlice } from '../model/time-slice.ts';

/** One write's changes: the objects as they are now, those deleted, and the meta keys set or removed. */
export interface JournalRecord {
  /** Rises by one per record and continues in state.json (`seq`), which says which records it already holds. */
  seq: number;
  /** The store's resourceVersion after this record. */
  resourceVersion: number;
  put?: KubeObject[];
  /** [kind, namespace ('' when cluster-scoped), name] */
  del?: [string, string, string][];
  meta?: Record<string, unknown>;
  unmeta?: string[];
  /** Entries of map-valued meta records set (`metaSet`) or removed (`metaDel`), applied after `meta`. */
  metaSet?: Record<string, Record<string, unknown>>;
  metaDel?: Record<string, string[]>;
}

/** About this much JSON is made per piece of a record, and a turn of the event loop makes pieces for about TURN_MS. */
const PIECE = 256 * 1024;
const TURN_MS = 4;

/**
 * A record's JSON in pieces: everything but the objects first (made at once, so the meta values are those of the
 * instant the record was taken), then the objects, a few hundred kB at a time. The objects' text is the one the
 * API sends too when it made one (model/stored-json.ts); a pod's is kept from here, which makes its first LIST or
 * GET a lookup. Stored objects never change, so pieces made over several turns still form one record.
 */
function* recordPieces(r: JournalRecord): Generator<string> {
  const { put, ...rest } = r;
  const head = JSON.stringify(rest);
  if (!put) return yield head;
  let piece = `${head.slice(0, -1)},"put":[`;
  for (let i = 0; i < put.length; i++) {
    piece += (i ? ',' : '') + persistedJson(put[i]);
    if (piece.length >= PIECE) {
      yield piece;
      piece = '';
    }
  }
  yield `${piece}]}`;
}

/**
 * A record as the bytes to append, made over several turns of the event loop: a burst of 10,000 pod changes is one
 * record of tens of MB, whose serialisation and checksum in one turn stalled every request for a second. The
 * checksum is carried from piece to piece, and each piece is encoded as it is made, so the last turn only copies
 * bytes (one string of the whole record, then its encoding, took tens of ms more in one turn).
 */
async function encodeRecordYielding(r: JournalRecord): Promise<Buffer> {
  const pieces: Buffer[] = [];
  let crc = 0;
  const slice = new TimeSlice(TURN_MS);
  for (const piece of recordPieces(r)) {
    const bytes = Buffer.from(piece);
    crc = crc32(bytes, crc);
    pieces.push(bytes);
    if (slice.over) await slice.next();
  }
  return Buffer.concat([Buffer.from(`${crc.toString(16).padStart(8, '0')} `), ...pieces, NEWLINE]);
}

const NEWLINE = Buffer.from('\n');

export interface JournalRead {
  records: JournalRecord[];
  /** Bytes up to the end of the last good record: where the next append goes. */
  validBytes: number;
  /** A torn last record was found (and ignored). */
  torn: boolean;
}

/** Reads the journal; a missing file is an empty one. Throws (naming the file) on damage before the last record. */
export async function readJournal(file: string): Promise<JournalRead> {
  let buf: Buffer;
  try {
    buf = await readFile(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: [], validBytes: 0, torn: false };
    throw e;
  }
  const records: JournalRecord[] = [];
  let at = 0;
  while (at < buf.length) {
    const nl = buf.indexOf(0x0a, at);
    const record = nl < 0 ? undefined : parseRecord(buf.subarray(at, nl).toString('utf8'));
    if (!record) {
      // Torn only if nothing good follows: a record is appended after the previous one is durable.
      if (nl < 0 || !hasRecordAfter(buf, nl + 1)) return { records, validBytes: at, torn: true };
      throw new Error(`a damaged record at byte ${at} of ${file}, before others`);
    }
    if (records.length && record.seq !== records[records.length - 1].seq + 1) {
      throw new Error(`record ${record.seq} follows ${records[records.length - 1].seq} at byte ${at} of ${file}`);
    }
    records.push(record);
    at = nl + 1;
  }
  return { records, validBytes: at, torn: false };
}

function parseRecord(line: string): JournalRecord | undefined {
  const m = /^([0-9a-f]{8}) (.*)$/s.exec(line);
  if (!m || crc32(m[2]) !== parseInt(m[1], 16)) return undefined;
  try {
    const r = JSON.parse(m[2]) as JournalRecord;
    return Number.isSafeInteger(r?.seq) && Number.isSafeInteger(r.resourceVersion) ? r : undefined;
  } catch {
    return undefined;
  }
}

function hasRecordAfter(buf: Buffer, from: number): boolean {
  for (let at = from; at < buf.length;) {
    const nl = buf.indexOf(0x0a, at);
    if (nl < 0) return false;
    if (parseRecord(buf.subarray(at, nl).toString('utf8'))) return true;
    at = nl + 1;
  }
  return false;
}

/** The writer's end: one per file (the data folder's lock makes this process the only one). */
export class JournalWriter {
  private constructor(private fh: FileHandle, private bytes: number) {}

  /** Opens for appending after `validBytes`, cutting off a torn tail first. */
  static async open(file: string, validBytes: number): Promise<JournalWriter> {
    const fh = await open(file, 'a', 0o600); // holds Secrets, like state.json
    const { size } = await fh.stat();
    if (size > validBytes) {
      await fh.truncate(validBytes);
      await fh.datasync();
    }
    return new JournalWriter(fh, validBytes);
  }

  get size(): number {
    return this.bytes;
  }

  /** Appends one record and waits until it is on disk. Returns the bytes written. */
  async append(r: JournalRecord): Promise<number> {
    const data = await encodeRecordYielding(r);
    await this.fh.appendFile(data);
    await this.fh.datasync();
    this.bytes += data.length;
    return data.length;
  }

  /** After a snapshot holds everything: start again from empty. */
  async reset(): Promise<void> {
    await this.fh.truncate(0);
    await this.fh.datasync();
    this.bytes = 0;
  }

  async close(): Promise<void> {
    await this.fh.close();
  }
}
