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

/** A turn of the event loop encodes objects of a record for about this long. */
const TURN_MS = 4;
/** UTF-8's most bytes for one UTF-16 code unit: room enough for a string without measuring it first. */
const MOST_BYTES_PER_CHAR = 3;
/** A guess at an object's text, for a record's first buffer (it doubles when short): a pod's is about 2 kB. */
const BYTES_PER_OBJECT = 2048;

/**
 * A record's line, `<crc32 hex> <json>\n`, written into one buffer that doubles as it fills: everything but the
 * objects first (made at once, so the meta values are those of the instant the record was taken), then each
 * object's text, encoded where it goes. The objects' text is the one the API sends too when it made one
 * (model/stored-json.ts); a pod's is kept from here, which makes its first LIST or GET a lookup. Stored objects
 * never change, so a record encoded over several turns of the event loop is still one state: a burst of 10,000 pod
 * changes is a record of tens of MB, whose serialisation and checksum in one turn stalled every request for a second.
 * The checksum is carried from turn to turn. No string of the record or of a piece of it is made: joining the texts
 * into 256 kB pieces, flattening and encoding each, then concatenating, took ~40% more CPU (30,000 pods).
 */
async function encodeRecordYielding(r: JournalRecord): Promise<Buffer> {
  const { put, ...rest } = r;
  const head = JSON.stringify(rest);
  const out = new RecordBytes(head.length * MOST_BYTES_PER_CHAR + (put?.length ?? 0) * BYTES_PER_OBJECT);
  if (!put) out.write(head);
  else {
    out.write(`${head.slice(0, -1)},"put":[`);
    const slice = new TimeSlice(TURN_MS);
    for (let i = 0; i < put.length; i++) {
      if (i) out.write(',');
      out.write(persistedJson(put[i]));
      if (slice.over) {
        out.sum();
        await slice.next();
      }
    }
    out.write(']}');
  }
  return out.line();
}

/** A journal line's bytes: room for the checksum kept at the front, the JSON appended, the checksum written last. */
class RecordBytes {
  private static readonly CRC = 9; // 8 hex digits and a space
  private buf: Buffer;
  private used = RecordBytes.CRC;
  private summed = RecordBytes.CRC;
  private crc = 0;

  constructor(estimate: number) {
    this.buf = Buffer.allocUnsafe(Math.max(1024, RecordBytes.CRC + estimate + 1));
  }

  write(s: string): void {
    const room = this.used + s.length * MOST_BYTES_PER_CHAR + 1; // + the newline
    if (room > this.buf.length) {
      const bigger = Buffer.allocUnsafe(Math.max(this.buf.length * 2, room));
      this.buf.copy(bigger, 0, 0, this.used);
      this.buf = bigger;
    }
    this.used += this.buf.write(s, this.used);
  }

  /** Checksums what was written since the last call. */
  sum(): void {
    this.crc = crc32(this.buf.subarray(this.summed, this.used), this.crc);
    this.summed = this.used;
  }

  /** The whole line: its checksum, the JSON and the newline. */
  line(): Buffer {
    this.sum();
    this.buf.write(`${this.crc.toString(16).padStart(8, '0')} `, 0, 'latin1');
    this.buf[this.used++] = 0x0a;
    return this.buf.subarray(0, this.used);
  }
}

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
