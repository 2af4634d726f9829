// Where each field was written. js-yaml's event stream carries source offsets for every node; one walk over it
// records, per document, the offset of each field path (a mapping entry at its key, a list item at its start).
import { EVENT_ID, SCALAR_STYLE, getScalarValue, type Event } from 'js-yaml';
import { toPointer, type Path } from './paths.ts';

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
  /** An index kept as its line starts (the load cache). */
  static of(starts: number[]): LineIndex {
    const index = new LineIndex('');
    (index as { starts: number[] }).starts = starts;
    return index;
  }
  at(offset: number): Position {
    if (offset < 0) return { line: 1, column: 1 };
    let lo = 0, hi = this.starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= offset) lo = mid; else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - this.starts[lo] + 1 };
  }
}

/** One document's field positions. A path that was not written (a missing field, or one merged in by `<<`) resolves to its nearest written ancestor. */
export class DocPositions {
  /** `offsets` by field pointer, or as the text offsetsText() wrote (the load cache), read on first use. */
  constructor(readonly index: LineIndex, private stored: Map<string, number> | string, readonly start: Position) {}

  private get offsets(): Map<string, number> {
    if (typeof this.stored === 'string') this.stored = parseOffsets(this.stored);
    return this.stored;
  }

  /**
   * The offsets as one text (the load cache): most documents are never asked where a field is again, so the text
   * is what is kept from here on (a third of the Map's memory: ~11 MB at 10,000 files), parsed back when asked.
   */
  offsetsText(): string {
    if (typeof this.stored !== 'string') this.stored = JSON.stringify([...this.stored]);
    return this.stored;
  }
  at(path: Path): Position {
    for (let n = path.length; n > 0; n--) {
      const offset = this.offsets.get(toPointer(path.slice(0, n)));
      if (offset !== undefined) return this.index.at(offset);
    }
    return this.start;
  }

  /** The positions of the node at `prefix` (an item of a `kind: List`), as a document of its own. */
  within(prefix: Path): DocPositions {
    const p = toPointer(prefix);
    const offsets = new Map<string, number>();
    for (const [k, o] of this.offsets) if (k === p || k.startsWith(p + '/')) offsets.set(k.slice(p.length), o);
    return new DocPositions(this.index, offsets, this.at(prefix));
  }
}

/** Offsets as offsetsText() wrote them; anything else is no offsets (every field then at the document's start). */
function parseOffsets(text: string): Map<string, number> {
  try {
    const pairs = JSON.parse(text);
    if (Array.isArray(pairs) && pairs.every((p) => Array.isArray(p) && typeof p[0] === 'string' && Number.isInteger(p[1]))) return new Map(pairs);
  } catch { /* not ours */ }
  return new Map();
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
      if (stack.length === 0) { docs.push(new DocPositions(index, offsets, index.at(rootAt))); continue; }
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
      pointer = top.pointer === null ? null : top.pointer + toPointer([seg]);
      if (pointer !== null) offsets.set(pointer, top.seq ? start : top.keyAt);
    }
    if (ev.type === EVENT_ID.MAPPING || ev.type === EVENT_ID.SEQUENCE) {
      stack.push({ pointer, isKey, seq: ev.type === EVENT_ID.SEQUENCE, index: 0, key: null, keyAt: -1 });
    } else if (top) advance(top);
  }
  return docs;
}
