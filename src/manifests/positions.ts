// Where each field was written. js-yaml's event stream carries source offsets for every node; one walk over it
// records, per document, the offset of each field path (a mapping entry at its key, a list item at its start).
import { EVENT_ID, SCALAR_STYLE, getScalarValue, type Event } from 'js-yaml';
import { segmentPointer, toPointer, type Path } from './paths.ts';

export interface Position { line: number; column: number } // 1-based

/** Offsets to 1-based line/column. */
export class LineIndex {
  /** Where each line starts. */
  readonly starts: number[];
  constructor(text: string) {
    const starts = [0];
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
    this.starts = starts.slice(); // exact length: kept with the file, where the pushed array has up to half again spare
  }
  at(offset: number): Position {
    if (offset < 0) return { line: 1, column: 1 };
    const line = this.lineOf(offset);
    return { line: line + 1, column: offset - this.starts[line] + 1 };
  }
  /** The line (from 0) holding `offset` (not negative). */
  lineOf(offset: number): number {
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return lo;
  }
}

/**
 * A document's field positions as the load cache keeps them: its field pointers as a JSON array's text, the same
 * for every document of one shape (3,333 Deployments of one template: one string), and where each was written, as
 * `line.column` items joined by commas. A fifth of the memory of the offsets' JSON text and the file's line starts
 * it replaced (7 MB at 10,000 files).
 */
export interface CompactPositions { fields: string; where: string }

/** One document's field positions. A path that was not written (a missing field, or one merged in by `<<`) resolves to its nearest written ancestor. */
export class DocPositions {
  /** Parsed here: offsets in the file's text, by field pointer, until compacted. */
  private fresh?: { offsets: Map<string, number>; index: LineIndex };
  private compact?: CompactPositions;
  /** The compact form read on first lookup (null: not what compacted() writes, so no positions). */
  private places?: Places | null;
  /** By field pointer: a List item's, or every field of the compact form (entries()). */
  private positions?: Map<string, Position>;

  private constructor(readonly start: Position) {}

  /** Offsets into a file's text, by field pointer. */
  static ofOffsets(index: LineIndex, offsets: Map<string, number>, start: Position): DocPositions {
    const p = new DocPositions(start);
    p.fresh = { offsets, index };
    return p;
  }

  /** As compacted() gave them (the load cache), read on first use. */
  static ofCompact(compact: CompactPositions, start: Position): DocPositions {
    const p = new DocPositions(start);
    p.compact = { fields: sharedFields(compact.fields), where: compact.where };
    return p;
  }

  /**
   * The compact form (the load cache): most documents are never asked where a field is again, so it is what is
   * kept from here on (the offsets and the file's line index are let go), read back when asked.
   */
  compacted(): CompactPositions {
    if (this.compact) return this.compact;
    const fields: string[] = [], where: string[] = [];
    if (this.fresh) {
      // Straight from the offsets: through entries() (a generator, a Position each) a cold load of 10,000 files
      // spent 140 ms here.
      const { offsets, index } = this.fresh;
      for (const [k, o] of offsets) {
        fields.push(k);
        const line = o < 0 ? 0 : index.lineOf(o);
        where.push(o < 0 ? '1.1' : `${line + 1}.${o - index.starts[line] + 1}`);
      }
    } else {
      for (const [k, p] of this.entries()) {
        fields.push(k);
        where.push(`${p.line}.${p.column}`);
      }
    }
    this.compact = { fields: sharedFields(JSON.stringify(fields)), where: where.join(',') };
    this.fresh = undefined;
    this.positions = undefined;
    return this.compact;
  }

  at(path: Path): Position {
    for (let n = path.length; n > 0; n--) {
      const at = this.lookup(toPointer(path.slice(0, n)));
      if (at) return at;
    }
    return this.start;
  }

  /** The positions of the node at `prefix` (an item of a `kind: List`), as a document of its own. */
  within(prefix: Path): DocPositions {
    const p = toPointer(prefix);
    const inside = (k: string) => k === p || k.startsWith(p + '/');
    if (this.fresh) {
      const offsets = new Map<string, number>();
      for (const [k, o] of this.fresh.offsets) if (inside(k)) offsets.set(k.slice(p.length), o);
      return DocPositions.ofOffsets(this.fresh.index, offsets, this.at(prefix));
    }
    const item = new DocPositions(this.at(prefix));
    item.positions = new Map();
    for (const [k, at] of this.entries()) if (inside(k)) item.positions.set(k.slice(p.length), at);
    return item;
  }

  private lookup(pointer: string): Position | undefined {
    if (this.fresh) {
      const offset = this.fresh.offsets.get(pointer);
      return offset === undefined ? undefined : this.fresh.index.at(offset);
    }
    if (this.positions || !this.compact) return this.read().get(pointer);
    // The compact form's places, by the field list's shared index: a review placing one warning on each of 3,333
    // Deployments made a Map of every field of each.
    if (this.places === undefined) this.places = placesOf(this.compact); // null (bad) kept too: not read again
    const i = this.places?.fields.index.get(pointer);
    return i === undefined ? undefined : placeAt(this.places!, i);
  }

  private *entries(): Iterable<[string, Position]> {
    if (this.fresh) for (const [k, o] of this.fresh.offsets) yield [k, this.fresh.index.at(o)];
    else yield* this.read();
  }

  private read(): Map<string, Position> {
    if (this.positions) return this.positions;
    if (this.compact && this.places === undefined) this.places = placesOf(this.compact);
    const places = this.places;
    this.positions = new Map();
    if (places) for (const [pointer, i] of places.fields.index) this.positions.set(pointer, placeAt(places, i));
    return this.positions;
  }
}

/** A field list's pointers → their places in it (the last, for a pointer listed twice), and its length. */
interface FieldIndex { index: Map<string, number>; length: number }
/** A field list as documents of one shape share it: its one string, and its index once a lookup needed it (null: not a list of strings). */
interface FieldList { text: string; index?: FieldIndex | null }

/**
 * One entry for each field list (a module's table, emptied when full): documents of one shape share its string,
 * whether parsed here, by a parse worker or read back from the load cache, and its index. The indexes are dropped
 * (the strings kept) once they hold FIELDS_INDEXED fields.
 */
const fieldLists = new Map<string, FieldList>();
const MAX_FIELD_LISTS = 4096;
const FIELDS_INDEXED = 200_000;
let fieldsIndexed = 0;

function fieldList(text: string): FieldList {
  let entry = fieldLists.get(text);
  if (entry) return entry;
  if (fieldLists.size >= MAX_FIELD_LISTS) {
    fieldLists.clear();
    fieldsIndexed = 0;
  }
  fieldLists.set(text, (entry = { text }));
  return entry;
}

const sharedFields = (fields: string) => fieldList(fields).text;

function fieldIndexOf(text: string): FieldIndex | undefined {
  const entry = fieldList(text);
  if (entry.index !== undefined) return entry.index ?? undefined;
  let index: FieldIndex | null = null;
  try {
    const list: unknown = JSON.parse(text);
    if (Array.isArray(list) && list.every((f) => typeof f === 'string')) index = { index: new Map(list.map((f, i) => [f, i])), length: list.length };
  } catch {
    // not ours: null
  }
  if (fieldsIndexed + (index?.length ?? 0) > FIELDS_INDEXED) {
    for (const e of fieldLists.values()) delete e.index;
    fieldsIndexed = 0;
  }
  entry.index = index;
  fieldsIndexed += index?.length ?? 0;
  return index ?? undefined;
}

/** A compact form read: its field list's index, and each field's line and column (two numbers a field). */
interface Places { fields: FieldIndex; at: Int32Array }
const placeAt = (p: Places, i: number): Position => ({ line: p.at[2 * i], column: p.at[2 * i + 1] });

/**
 * Positions as compacted() wrote them; null for anything else (no positions: every field at the document's start).
 * `where` is read a character at a time: splitting it and each of its items made ~30 arrays a document (a review's
 * placing of 3,333 Deployments' warnings spent 100 ms there).
 */
function placesOf(c: CompactPositions): Places | null {
  const fields = fieldIndexOf(c.fields);
  const where: unknown = c.where;
  if (!fields || typeof where !== 'string') return null;
  const at = new Int32Array(2 * fields.length);
  if (!fields.length) return where === '' ? { fields, at } : null;
  let n = 0, value = 0, digits = 0;
  for (let k = 0; k <= where.length; k++) {
    const ch = k < where.length ? where.charCodeAt(k) : 44; // the end closes the last item, as a comma would
    if (ch >= 48 && ch <= 57) {
      value = value * 10 + ch - 48;
      if (value >= 2 ** 31) return null;
      digits++;
      continue;
    }
    // A line ends with `.`, a column with `,`; each a whole number from 1.
    if (!digits || value < 1 || n >= at.length || ch !== (n % 2 === 0 ? 46 : 44)) return null;
    at[n++] = value;
    value = digits = 0;
  }
  return n === at.length ? { fields, at } : null;
}

/** Where a node's text starts, including its anchor (`&a`), tag (`!!str`) or opening quote. */
function nodeStart(ev: Event): number {
  let at = -1;
  const take = (o: number) => { if (o >= 0 && (at < 0 || o < at)) at = o; };
  if (ev.type === EVENT_ID.SCALAR) {
    const quoted = ev.style === SCALAR_STYLE.SINGLE_QUOTED || ev.style === SCALAR_STYLE.DOUBLE_QUOTED;
    take(ev.valueStart >= 0 && quoted ? ev.valueStart - 1 : ev.valueStart);
  }
  if (ev.type === EVENT_ID.MAPPING || ev.type === EVENT_ID.SEQUENCE) take(ev.start);
  if (ev.type !== EVENT_ID.DOCUMENT && ev.type !== EVENT_ID.POP) take(ev.anchorStart - 1);
  if (ev.type === EVENT_ID.SCALAR || ev.type === EVENT_ID.MAPPING || ev.type === EVENT_ID.SEQUENCE) take(ev.tagStart);
  return at;
}

interface Frame {
  pointer: string | null; // null inside a complex (non-scalar) key, which js-yaml refuses later anyway
  isKey: boolean;
  seq: boolean;
  index: number;
  key: string | null; // mapping: the key awaiting its value
  keyAt: number;
}

/** Field positions for every document of a parsed file, in document order. */
export function documentPositions(events: readonly Event[], source: string, index: LineIndex): DocPositions[] {
  const docs: DocPositions[] = [];
  let offsets = new Map<string, number>();
  let rootAt = -1;
  const stack: Frame[] = [];
  const advance = (f: Frame | undefined) => { if (f) { if (f.seq) f.index++; else f.key = null; } };

  for (const ev of events) {
    if (ev.type === EVENT_ID.DOCUMENT) { offsets = new Map(); rootAt = -1; continue; }
    if (ev.type === EVENT_ID.POP) {
      if (stack.length === 0) { docs.push(DocPositions.ofOffsets(index, offsets, index.at(rootAt))); continue; }
      const done = stack.pop()!;
      const parent = stack.at(-1);
      if (done.isKey) parent!.key = '?'; // a complex key just closed; its value comes next
      else advance(parent);
      continue;
    }
    const start = nodeStart(ev);
    const top = stack.at(-1);
    let pointer: string | null = '';
    let isKey = false;
    if (!top) {
      rootAt = start;
      offsets.set('', start);
    } else if (!top.seq && top.key === null) {
      // A mapping key: remember it; its value gets the key's position.
      if (ev.type === EVENT_ID.SCALAR) { top.key = getScalarValue(source, ev); top.keyAt = start; continue; }
      if (ev.type === EVENT_ID.ALIAS) { top.key = '*'; top.keyAt = start; continue; }
      pointer = null;
      isKey = true;
    } else {
      const seg = top.seq ? String(top.index) : top.key!;
      pointer = top.pointer === null ? null : top.pointer + segmentPointer(seg);
      if (pointer !== null) offsets.set(pointer, top.seq ? start : top.keyAt);
    }
    if (ev.type === EVENT_ID.MAPPING || ev.type === EVENT_ID.SEQUENCE) {
      stack.push({ pointer, isKey, seq: ev.type === EVENT_ID.SEQUENCE, index: 0, key: null, keyAt: -1 });
    } else if (top) advance(top);
  }
  return docs;
}
