// Blobs in the repository's packs (`objects/pack/pack-*.idx`, version 2, and its `.pack`), read with node's own zlib
// and hash, as loose-object.ts reads loose ones. Every clone is packed, and isomorphic-git reads a packed object by
// inflating it in JavaScript (pako) and applying its delta there: a cold `validate` of 10,000 files read from a pack
// took 2.6 s against 2.2 s from loose objects. Each object's compressed bytes end where the next object (by offset)
// begins, so one positioned read and one inflate each; a delta's base is read the same way (OFS_DELTA by offset,
// REF_DELTA by oid) and kept for the deltas after it. What this cannot read (an index of another version) is left to
// isomorphic-git (the caller's fallback). One `Packs` serves one read: its files are open until it is closed, and
// closed for good then (a gc may remove a pack; a read still under way after its read failed reopens nothing). The
// parsed indexes outlive it (`PackIndexes`): a pack's name is its checksum, so its index never changes.
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { inflateSync } from 'node:zlib';

const IDX_MAGIC = 0xff744f63; // "\377tOc"
const OBJ_BLOB = 3;
const OFS_DELTA = 6;
const REF_DELTA = 7;
const TYPE_NAMES = ['', 'commit', 'tree', 'blob', 'tag', '', 'ofs-delta', 'ref-delta'];
/** Longest delta chain followed (git's default depth is 50; `--depth` above 4095 is refused by git itself). */
const MAX_CHAIN = 4096;
/** Bytes of delta bases kept for the deltas that follow them. */
const BASE_CACHE_BYTES = 32 << 20;
/**
 * Bytes of the pack read at once: a manifest's object is a few hundred bytes, and a positioned read for each (its
 * header, then its data) was the largest cost of the reader (~9 µs a call here).
 */
const WINDOW_BYTES = 1 << 20;

/** A pack's `.idx`, parsed: kept across reads. */
interface PackIndex {
  idx: Buffer;
  count: number;
  /** Every object's offset, ascending: where each object's data ends. */
  sortedOffsets: Float64Array;
}

/** Parsed indexes by pack name, for the reads of one repository. */
export type PackIndexes = Map<string, PackIndex>;

interface Pack extends PackIndex {
  name: string;
  fd: number;
  /** The pack's size: the last object ends 20 bytes (the pack's checksum) before it. */
  size: number;
  /** The part of the pack read last (WINDOW_BYTES from `from`). */
  window?: { from: number; buf: Buffer };
}

/** A damaged or unexpected pack entry: the caller names the blob and its path. */
export class PackError extends Error {}

export class Packs {
  private packs?: Pack[];
  private readonly bases = new Map<string, { type: number; data: Buffer }>();
  private baseBytes = 0;

  constructor(private readonly gitdir: string, private readonly indexes: PackIndexes = new Map()) {}

  /** Closes the pack files, for good: a later readBlob finds no pack. */
  close(): void {
    for (const p of this.packs ?? []) closeSync(p.fd);
    this.packs = [];
    this.bases.clear();
    this.baseBytes = 0;
  }

  /**
   * The content of blob `oid` when a pack (of index version 2) holds it; undefined when none does. Throws a
   * PackError for an object that is damaged (bad zlib data, a delta that does not fit, a wrong hash) or not a blob
   * in every pack that holds it.
   */
  readBlob(oid: string): Uint8Array | undefined {
    const key = Buffer.from(oid, 'hex');
    // A damaged copy is passed over for another pack's, as git does; said only when no pack has a good one.
    let damaged: PackError | undefined;
    for (const pack of this.list()) {
      const at = find(pack, key);
      if (at === undefined) continue;
      try {
        const { type, data } = this.object(pack, at, 0);
        if (type !== OBJ_BLOB) throw new PackError(`object ${oid} is a ${TYPE_NAMES[type] || `type ${type}`}, not a blob`);
        const sha = createHash('sha1').update(`blob ${data.length}\0`).update(data).digest('hex');
        if (sha !== oid) throw new PackError(`object ${oid} hashes to ${sha}: the pack ${pack.name} is damaged`);
        return data;
      } catch (e) {
        damaged ??= e instanceof PackError ? e : new PackError(`object ${oid} in ${pack.name}: ${(e as Error).message}`);
      }
    }
    if (damaged) throw damaged;
    return undefined;
  }

  /** The packs, listed and opened at the first read after the construction. */
  private list(): Pack[] {
    if (this.packs) return this.packs;
    const dir = `${this.gitdir}/objects/pack`;
    let names: string[];
    try {
      names = readdirSync(dir).filter((n) => n.endsWith('.idx')).map((n) => n.slice(0, -4)).sort();
    } catch {
      names = [];
    }
    for (const name of this.indexes.keys()) if (!names.includes(name)) this.indexes.delete(name); // gone (a gc)
    const packs: Pack[] = [];
    try {
      for (const name of names) {
        const pack = openPack(dir, name, this.indexes);
        if (pack) packs.push(pack);
      }
    } catch (e) {
      for (const p of packs) closeSync(p.fd);
      throw e;
    }
    return (this.packs = packs);
  }

  /** The object at `offset` of `pack`, its deltas applied: its type and content. */
  private object(pack: Pack, offset: number, depth: number): { type: number; data: Buffer } {
    if (depth > MAX_CHAIN) throw new PackError(`a delta chain in ${pack.name} is longer than ${MAX_CHAIN}`);
    const head = bytes(pack, offset, 32);
    const got = head.length;
    let p = 0;
    let c = head[p++];
    const type = (c >> 4) & 7;
    let size = c & 15;
    for (let shift = 4; c & 0x80; shift += 7) {
      if (p >= got) throw new PackError(`the object at ${offset} of ${pack.name} has a bad header`);
      c = head[p++];
      size += (c & 0x7f) * 2 ** shift;
    }
    let base: { type: number; data: Buffer } | undefined;
    if (type === OFS_DELTA) {
      c = head[p++];
      let back = c & 0x7f;
      while (c & 0x80) {
        if (p >= got) throw new PackError(`the object at ${offset} of ${pack.name} has a bad header`);
        c = head[p++];
        back = (back + 1) * 128 + (c & 0x7f);
      }
      const baseAt = offset - back;
      if (back <= 0 || baseAt < 12) throw new PackError(`the delta at ${offset} of ${pack.name} names no object before it`);
      base = this.baseOf(pack, baseAt, depth);
    } else if (type === REF_DELTA) {
      if (p + 20 > got) throw new PackError(`the object at ${offset} of ${pack.name} has a bad header`);
      const ref = Buffer.from(head.subarray(p, p + 20));
      p += 20;
      const baseAt = find(pack, ref);
      if (baseAt === undefined) throw new PackError(`the delta at ${offset} of ${pack.name} has its base ${ref.toString('hex')} in no pack it can be read from`);
      base = this.baseOf(pack, baseAt, depth);
    } else if (type < 1 || type > 4) {
      throw new PackError(`the object at ${offset} of ${pack.name} has type ${type}`);
    }
    const data = inflated(pack, offset + p, size, offset);
    return base ? { type: base.type, data: applyDelta(base.data, data, pack.name, offset) } : { type, data };
  }

  /** A delta's base, kept (most recent last) for the deltas after it. */
  private baseOf(pack: Pack, offset: number, depth: number): { type: number; data: Buffer } {
    const key = `${pack.name}:${offset}`;
    const cached = this.bases.get(key);
    if (cached) {
      this.bases.delete(key);
      this.bases.set(key, cached);
      return cached;
    }
    const base = this.object(pack, offset, depth + 1);
    if (base.data.length <= BASE_CACHE_BYTES / 4) {
      this.bases.set(key, base);
      this.baseBytes += base.data.length;
      for (const [k, v] of this.bases) {
        if (this.baseBytes <= BASE_CACHE_BYTES) break;
        this.bases.delete(k);
        this.baseBytes -= v.data.length;
      }
    }
    return base;
  }
}

/**
 * Pack `name` of `dir` opened, its index parsed (or taken from `indexes`); undefined when it was removed meanwhile (a
 * gc) or its index is not of version 2 (isomorphic-git's then). A damaged index is a PackError.
 */
function openPack(dir: string, name: string, indexes: PackIndexes): Pack | undefined {
  let index = indexes.get(name);
  if (!index) {
    index = readIndex(`${dir}/${name}.idx`, name);
    if (!index) return undefined;
    indexes.set(name, index);
  }
  let fd: number;
  try {
    fd = openSync(`${dir}/${name}.pack`, 'r');
  } catch {
    return undefined;
  }
  try {
    return { ...index, name, fd, size: fstatSync(fd).size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

function readIndex(file: string, name: string): PackIndex | undefined {
  let idx: Buffer;
  try {
    idx = readFileSync(file);
  } catch {
    return undefined; // removed meanwhile
  }
  if (idx.length < 8 + 1024 || idx.readUInt32BE(0) !== IDX_MAGIC || idx.readUInt32BE(4) !== 2) return undefined;
  const count = idx.readUInt32BE(8 + 255 * 4);
  if (idx.length < 8 + 1024 + count * 28 + 40) throw new PackError(`the index of ${name} is cut short`);
  const index: PackIndex = { idx, count, sortedOffsets: new Float64Array(count) };
  for (let i = 0; i < count; i++) index.sortedOffsets[i] = offsetAt(index, i, name);
  index.sortedOffsets.sort();
  return index;
}

/** The pack offset of the object named `key` (20 bytes), or undefined when `pack` has none. */
function find(pack: Pack, key: Buffer): number | undefined {
  const { idx } = pack;
  const first = key[0];
  let lo = first === 0 ? 0 : idx.readUInt32BE(8 + (first - 1) * 4);
  let hi = idx.readUInt32BE(8 + first * 4);
  const names = 8 + 1024;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const cmp = idx.compare(key, 0, 20, names + mid * 20, names + mid * 20 + 20);
    if (cmp === 0) return offsetAt(pack, mid, pack.name);
    if (cmp < 0) lo = mid + 1;
    else hi = mid;
  }
  return undefined;
}

/** The pack offset of the `i`th object of the index (a 31-bit one, or one of the 64-bit table). */
function offsetAt(index: PackIndex, i: number, name: string): number {
  const offsets = 8 + 1024 + index.count * 24;
  const small = index.idx.readUInt32BE(offsets + i * 4);
  if (!(small & 0x80000000)) return small;
  const big = offsets + index.count * 4 + (small & 0x7fffffff) * 8;
  if (big + 8 > index.idx.length - 40) throw new PackError(`the index of ${name} names an offset past its table`);
  return index.idx.readUInt32BE(big) * 2 ** 32 + index.idx.readUInt32BE(big + 4);
}

/** The zlib data from `from` to where the next object begins, inflated; it must come to `size` bytes. */
function inflated(pack: Pack, from: number, size: number, offset: number): Buffer {
  const end = nextOffset(pack, offset);
  if (end <= from) throw new PackError(`the object at ${offset} of ${pack.name} has no data`);
  const deflated = bytes(pack, from, end - from);
  if (deflated.length < end - from) throw new PackError(`${pack.name} ends inside the object at ${offset}`);
  let data: Buffer;
  try {
    // No more than the header says (a damaged one could ask for gigabytes).
    data = inflateSync(deflated, { chunkSize: Math.max(1024, Math.min(size, WINDOW_BYTES)), maxOutputLength: Math.max(1, size) });
  } catch (e) {
    throw new PackError(`the object at ${offset} of ${pack.name}: ${(e as Error).message}`);
  }
  if (data.length !== size) throw new PackError(`the object at ${offset} of ${pack.name} says ${size} bytes but holds ${data.length}`);
  return data;
}

/** `length` bytes of the pack from `from` (fewer at its end), from the window read last or a new one from there. */
function bytes(pack: Pack, from: number, length: number): Buffer {
  const w = pack.window;
  if (w && from >= w.from && from + length <= w.from + w.buf.length) return w.buf.subarray(from - w.from, from - w.from + length);
  const buf = Buffer.allocUnsafe(Math.min(Math.max(length, WINDOW_BYTES), Math.max(0, pack.size - from)));
  let n = 0;
  while (n < buf.length) {
    const got = readSync(pack.fd, buf, n, buf.length - n, from + n);
    if (!got) break;
    n += got;
  }
  pack.window = { from, buf: buf.subarray(0, n) };
  return buf.subarray(0, Math.min(n, length));
}

/** Where the object after the one at `offset` begins (the pack's checksum, for the last). */
function nextOffset(pack: Pack, offset: number): number {
  const s = pack.sortedOffsets;
  let lo = 0;
  let hi = s.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (s[mid] <= offset) lo = mid + 1;
    else hi = mid;
  }
  return lo < s.length ? s[lo] : pack.size - 20;
}

/** git's delta: the base's and the result's sizes, then copies from the base and inserted bytes. */
function applyDelta(base: Buffer, delta: Buffer, pack: string, offset: number): Buffer {
  const bad = (why: string) => new PackError(`the delta at ${offset} of ${pack} ${why}`);
  let p = 0;
  const varint = () => {
    let n = 0;
    let c: number;
    let shift = 0;
    do {
      if (p >= delta.length) throw bad('is cut short');
      c = delta[p++];
      n += (c & 0x7f) * 2 ** shift;
      shift += 7;
    } while (c & 0x80);
    return n;
  };
  if (varint() !== base.length) throw bad('does not fit its base');
  const out = Buffer.allocUnsafe(varint());
  let o = 0;
  while (p < delta.length) {
    const op = delta[p++];
    if (op & 0x80) {
      let from = 0;
      let len = 0;
      for (let i = 0; i < 4; i++) if (op & (1 << i)) from += delta[p++] * 2 ** (8 * i);
      for (let i = 0; i < 3; i++) if (op & (16 << i)) len += delta[p++] << (8 * i);
      if (len === 0) len = 0x10000;
      if (from + len > base.length || o + len > out.length || p > delta.length) throw bad('copies past its base or result');
      base.copy(out, o, from, from + len);
      o += len;
    } else if (op) {
      if (p + op > delta.length || o + op > out.length) throw bad('inserts past its end');
      delta.copy(out, o, p, p + op);
      o += op;
      p += op;
    } else {
      throw bad('has a reserved instruction');
    }
  }
  if (o !== out.length) throw bad('makes fewer bytes than it says');
  return out;
}
