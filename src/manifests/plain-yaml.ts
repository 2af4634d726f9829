// The quick parse of plain YAML. js-yaml 5's event stream (parse.ts) is what every file could be read with, but it
// costs ~0.15 ms a small manifest: at 10,000 files, the first load of a repository spent most of its seconds there.
// js-yaml 4's loader reads the same text ~4× faster. Most manifests are plain: no anchors, aliases, tags, merge
// keys, directives, explicit keys, tabs or byte-order mark. Those are read here, with
// js-yaml 4 resolving plain scalars through the same tags (yaml-tags.ts) and its node listener giving where each
// node starts; anything else, and anything js-yaml 4 refuses or this file cannot place, is left to parse.ts, so
// errors and the unusual keep one reading. A test holds both parses equal (values and positions) on the corpus and
// on generated documents.
import yaml4 from 'js-yaml-4';
import { toPointer } from './paths.ts';
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
 * Text left to parse.ts: anchors and aliases (`&`, `*`), tags (`!`), directives (`%`), merge keys, explicit keys
 * (`? `), tabs, a byte-order mark (js-yaml 4 drops it: every offset would be one off) and a line starting with
 * `---` or `...` and more (js-yaml 4 takes `---a: 1` for a document marker). Matched anywhere, even in a quoted
 * value or a comment: a file with a `*` in a string is only read the slower way.
 */
const NOT_PLAIN = /[&*!%\t\uFEFF]|<<|(^|\s)\?(\s|$)|(^|\n)(---|\.\.\.)[^\s]/;
/** Under js-yaml 5's 100, so that what nests near the limit is refused (or not) by parse.ts alone. */
const MAX_DEPTH = 90;
/** Integer-like keys: an object lists them first, not in the order written, which placing them here relies on. */
const INDEX = /^(0|[1-9][0-9]*)$/;

/** A node as js-yaml 4's listener saw it: where it started and ended, what it is, and the nodes read inside it. */
interface Node { at: number; end: number; kind: 'scalar' | 'sequence' | 'mapping' | null; result: unknown; inside: Node[] | null }

class Unplaced extends Error {}

/** The documents of `source` (empty ones left out), or undefined when parse.ts must read it. */
export function plainDocs(source: string): ParsedDoc[] | undefined {
  if (NOT_PLAIN.test(source)) return undefined;
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
        else if (node.kind !== null) (parent.inside ??= []).push(node); // else a try that read nothing
      },
    });
  } catch {
    return undefined; // parse.ts gives the error
  }
  if (roots.length !== values.length) return undefined;
  const index = new LineIndex(source);
  try {
    const docs: ParsedDoc[] = [];
    roots.forEach((root, i) => {
      const value = values[i];
      if (value === null || value === undefined) return;
      const offsets = new Map<string, number>([['', root.at]]);
      place(source, root, '', offsets);
      docs.push({ value, positions: DocPositions.ofOffsets(index, offsets, index.at(root.at)) });
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

/**
 * Records where each field under `node` was written, as parse.ts's documentPositions does: a mapping entry at its
 * key, a list item at its start (a block scalar's at the line after its `|` or `>`). Throws Unplaced when the
 * nodes read do not line up with the value built.
 */
function place(source: string, outer: Node, pointer: string, offsets: Map<string, number>): void {
  // A collection read by a try at a mapping key that was none (`a: [1]`, `a: {b: 1}`) sits alone inside its node.
  let node = outer;
  while (node.inside?.length === 1 && node.inside[0].result === node.result && node.kind !== 'scalar') node = node.inside[0];
  const inside = node.inside ?? [];
  if (node.kind === 'mapping') {
    const keys = Object.keys(node.result as object);
    let k = 0;
    for (let i = 0; i < inside.length; i++) {
      const key = inside[i];
      if (typeof key.result !== 'string' || key.result !== keys[k] || INDEX.test(key.result) || !isKey(source, key)) throw new Unplaced();
      const at = pointer + toPointer([key.result]);
      offsets.set(at, key.at);
      k++;
      const value = inside[i + 1];
      if (value && !isKey(source, value)) {
        i++;
        if (value.kind !== 'scalar') place(source, value, at, offsets);
      }
    }
    if (k !== keys.length) throw new Unplaced();
  } else if (node.kind === 'sequence') {
    if (inside.length !== (node.result as unknown[]).length) throw new Unplaced();
    inside.forEach((item, i) => {
      if (isKey(source, item)) throw new Unplaced(); // a one-pair mapping in a flow list: `[a: 1]`
      const at = `${pointer}/${i}`;
      const c = source.charCodeAt(item.at);
      const blockScalar = c === 124 || c === 62;
      const start = blockScalar ? source.indexOf('\n', item.at) + 1 : item.at;
      if (start === 0) throw new Unplaced(); // a block scalar's header on the file's last line
      offsets.set(at, start);
      if (item.kind !== 'scalar') place(source, item, at, offsets);
    });
  }
}
