// The quick parse of plain YAML. js-yaml 5's event stream (parse.ts) is what every file could be read with, but it
// costs ~0.15 ms a small manifest: at 10,000 files, the first load of a repository spent most of its seconds there.
// js-yaml 4's loader reads the same text ~4× faster. Most manifests are plain: no anchors, aliases, tags, merge
// keys, directives, explicit keys, tabs or byte-order mark. Those are read here, with
// js-yaml 4 resolving plain scalars through the same tags (yaml-tags.ts) and its node listener giving where each
// node starts; anything else, and anything js-yaml 4 refuses or this file cannot place, is left to parse.ts, so
// errors and the unusual keep one reading. A test holds both parses equal (values and positions) on the corpus and
// on generated documents.
import yaml4 from 'js-yaml-4';
import { segmentPointer } from './paths.ts';
import { DocPositions, LineIndex } from './positions.ts';
import type { ParsedDoc } from './parse.ts';
import { IMPLICIT_TAGS } from './yaml-tags.ts';
import * as yaml from 'js-yaml';

const SCHEMA = yaml4.FAILSAFE_SCHEMA.extend({
  implicit: IMPLICIT_TAGS.map((tag) => {
    const first = tag.implicitFirstChars && new Set(tag.implicitFirstChars);
    const resolve = (s: string) => (first && !first.has(s.charAt(0)) ? yaml.NOT_RESOLVED : tag.resolve(s, false, tag.tagName));
    return new yaml4.Type(tag.tagName, { kind: 'scalar', resolve: (s) => resolve(s) !== yaml.NOT_RESOLVED, construct: resolve });
  }),
});

/**
 * Text left to parse.ts, matched anywhere (in a quoted value or a comment too: such a file is only read the slower
 * way): what js-yaml 4 reads unlike js-yaml 5 or that is not placed here. Anchors and aliases (`&`, `*`), tags (`!`),
 * directives (`%`), merge keys (`<<`), explicit keys (`?` and a space, also in flow: `[? a]`), empty keys (`[: x]`),
 * tabs, a byte-order mark (js-yaml 4 drops it: every offset would be one off), a line break that is a lone CR, a `#`
 * right after a quote, bracket, comma or colon (js-yaml 4 takes it for a comment, js-yaml 5 refuses the text), and a
 * line starting `---` or `...` with more than a comment after it (js-yaml 4 takes `---a: 1` for a marker and its
 * key, and reads content after a marker that js-yaml 5 refuses).
 */
const NOT_PLAIN = /[&*!%\t\uFEFF]|<<|\?(\s|$)|(^|[\s[{,]):(\s|$)|\r(?!\n)|["'\]},[:]#|(^|\n)(---|\.\.\.)(?!( +#[^\r\n]*| *)(\r?\n|$))/;
/** A block scalar keeping its final line breaks (`|+`): js-yaml 4 adds one to a text not ending in one. */
const KEEP_CHOMPING = /[|>][0-9]?\+/;
/** Under js-yaml 5's 100, so that what nests near the limit is refused (or not) by parse.ts alone. */
const MAX_DEPTH = 90;

/** A node as js-yaml 4's listener saw it: where it started and ended, what it is, and the nodes read inside it. */
interface Node { at: number; end: number; kind: 'scalar' | 'sequence' | 'mapping' | null; result: unknown; inside: Node[] | null }

class Unplaced extends Error {}

/** The documents of `source` (empty ones left out), or undefined when parse.ts must read it. */
export function plainDocs(source: string): ParsedDoc[] | undefined {
  if (NOT_PLAIN.test(source) || (!source.endsWith('\n') && KEEP_CHOMPING.test(source))) return undefined;
  const roots: Node[] = [];
  const open: Node[] = [];
  let values: unknown[];
  try {
    values = yaml4.loadAll(source, null, {
      schema: SCHEMA,
      maxDepth: MAX_DEPTH,
      // Its warnings are js-yaml 5's errors (a continuation line of a quoted value or flow collection not indented
      // past its key, which parse.ts may still accept as go-yaml does): left to parse.ts.
      onWarning: (e) => { throw e; },
      listener: (event, state) => {
        if (event === 'open') {
          open.push({ at: state.position, end: -1, kind: null, result: null, inside: null });
          return;
        }
        const node = open.pop()!;
        node.kind = state.kind;
        node.result = state.result;
        node.end = state.position;
        const parent = open.at(-1);
        if (!parent) roots.push(node); // one a document, empty ones too
        else if (node.kind !== null) (parent.inside ??= []).push(node); // else nothing was read: a try, an empty value
      },
    });
  } catch (e) {
    if (e instanceof yaml4.YAMLException) return undefined; // parse.ts gives the error
    throw e;
  }
  if (roots.length !== values.length) return undefined;
  const index = new LineIndex(source);
  try {
    const docs: ParsedDoc[] = [];
    roots.forEach((root, i) => {
      const value = values[i];
      if (value === null || value === undefined) return;
      const at = startOf(source, root);
      const offsets = new Map<string, number>([['', at]]);
      place(source, root, '', offsets);
      docs.push({ value, positions: DocPositions.ofOffsets(index, offsets, index.at(at)) });
    });
    return docs;
  } catch (e) {
    if (e instanceof Unplaced) return undefined;
    throw e;
  }
}

/** A mapping's key: the node is followed, on its line, by `:`. */
function isKey(source: string, node: Node): boolean {
  let i = node.end;
  while (source.charCodeAt(i) === 32) i++;
  return source.charCodeAt(i) === 58;
}

/** Where js-yaml 5 says a node starts: a block scalar (`|`, `>`) at the line after its header. */
function startOf(source: string, node: Node): number {
  const c = source.charCodeAt(node.at);
  if (c !== 124 && c !== 62) return node.at;
  const next = source.indexOf('\n', node.at) + 1;
  if (next === 0) throw new Unplaced(); // a header on the file's last line
  return next;
}

/**
 * Records where each field under `node` was written, as parse.ts's documentPositions does: a mapping entry at its
 * key, a list item at its start. Throws Unplaced when the nodes read do not line up with the value built (each
 * key, in order, and each value and item must be the very one there).
 */
function place(source: string, outer: Node, pointer: string, offsets: Map<string, number>): void {
  // A collection on a line of its own or alone in a list item (`a:\n  [1]`, `- [1]`) is read by a try at a mapping
  // key that was none: it sits alone inside the node of the value.
  let node = outer;
  while (node.inside?.length === 1 && node.inside[0].result === node.result && node.kind !== 'scalar') node = node.inside[0];
  const inside = node.inside ?? [];
  if (node.kind === 'mapping') {
    const mapping = node.result as Record<string, unknown>;
    const keys = Object.keys(mapping);
    let k = 0;
    for (let i = 0; i < inside.length; i++) {
      const key = inside[i];
      // An integer-like key comes first in Object.keys, whatever its place: not the key written here.
      if (typeof key.result !== 'string' || key.result !== keys[k] || !isKey(source, key)) throw new Unplaced();
      const at = pointer + segmentPointer(key.result);
      offsets.set(at, key.at);
      k++;
      const value = inside[i + 1];
      if (value && !isKey(source, value)) { // else no value was written (`a:`): null
        i++;
        if (value.result !== mapping[key.result]) throw new Unplaced();
        if (value.kind !== 'scalar') place(source, value, at, offsets);
      }
    }
    if (k !== keys.length) throw new Unplaced();
  } else if (node.kind === 'sequence') {
    const items = node.result as unknown[];
    if (inside.length !== items.length) throw new Unplaced();
    inside.forEach((item, i) => {
      if (item.result !== items[i] || isKey(source, item)) throw new Unplaced(); // `[a: 1]`: a one-pair mapping
      const at = `${pointer}/${i}`;
      offsets.set(at, startOf(source, item));
      if (item.kind !== 'scalar') place(source, item, at, offsets);
    });
  }
}
