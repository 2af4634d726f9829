// How many strings with a given text this process's heap holds, from a heap snapshot (which collects garbage
// first): what a test of string sharing can count, as JavaScript cannot tell two equal strings apart. Only flat
// strings are counted: a snapshot names a slice "(sliced string)" and a concatenation "(concatenated string)".
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import v8 from 'node:v8';

/** How many flat strings of the heap each of `texts` is. */
export function stringCopies(...texts: string[]): number[] {
  const counts = new Map(texts.map((t) => [t, 0]));
  heapStrings((text) => { const n = counts.get(text); if (n !== undefined) counts.set(text, n + 1); });
  return texts.map((t) => counts.get(t)!);
}

/** How many flat strings of the heap `match`. */
export function countStrings(match: (text: string) => boolean): number {
  let n = 0;
  heapStrings((text) => { if (match(text)) n++; });
  return n;
}

function heapStrings(each: (text: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-heap-'));
  try {
    /x/.test('x'); // V8 keeps the last regexp match's subject alive (RegExp.input): not a text under test
    const snap = JSON.parse(readFileSync(v8.writeHeapSnapshot(join(dir, 'heap.heapsnapshot')), 'utf8'));
    const { node_fields, node_types } = snap.snapshot.meta;
    const width = node_fields.length, types: string[] = node_types[0], nameAt = node_fields.indexOf('name');
    const nodes: number[] = snap.nodes, strings: string[] = snap.strings;
    for (let i = 0; i < nodes.length; i += width) if (types[nodes[i]] === 'string') each(strings[nodes[i + nameAt]]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
