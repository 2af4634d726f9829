// One loaded file as plain JSON, for the load cache of another process (LoadOptions.cache): its documents as
// parsed, where their fields were written, and the verdict of each document of a built-in kind (its issues and
// defaulted object), so an unchanged file is neither parsed nor validated again. Restoring checks the shape of
// what it reads: anything else is not a hit, and the file is loaded from its text.
import type { Issue } from '../model/issue.ts';
import { kindInfoFor, type KindInfo } from '../model/kinds.ts';
import type { KubeObject } from '../model/object.ts';
import type { LoadedDoc } from './doc.ts';
import { deepFreeze } from '../model/deep-freeze.ts';
import { sharingEqual } from '../model/share-equal.ts';
import { DocPositions, type CompactPositions, type Position } from './positions.ts';
import type { StringTable } from './string-table.ts';

export interface StoredFile {
  /** The text's length, and its size in bytes (the loader's limits). */
  chars: number;
  bytes: number;
  error?: Position & { message: string };
  docs: StoredDoc[];
}

interface StoredDoc extends CompactPositions {
  value: unknown;
  start: Position;
  verdict?: { kind: string; issues: Issue[]; object?: KubeObject };
}

/** A document's verdict, as the loader remembers it. */
export interface Verdict { issues: Issue[]; object: KubeObject | undefined; kind?: string; info?: KindInfo }

/**
 * A verdict's object as the loader keeps it: deep-frozen, and sharing what it has of the document as written (it is
 * a copy with defaults added): one copy of both. `object` must be the caller's own.
 */
export const verdictObject = (object: KubeObject | undefined, doc: LoadedDoc) => object && deepFreeze(sharingEqual(object, doc.value));

export interface RestoredFile {
  docs: LoadedDoc[];
  error?: Position & { message: string };
  chars: number;
  bytes: number;
  verdicts: Map<LoadedDoc, Verdict>;
}

export function storeFile(file: { docs: LoadedDoc[]; error?: StoredFile['error']; chars: number; bytes: number }, verdictOf: (d: LoadedDoc) => Verdict | undefined): StoredFile {
  return {
    chars: file.chars,
    bytes: file.bytes,
    ...(file.error && { error: file.error }),
    docs: file.docs.map((d) => {
      const v = verdictOf(d);
      return {
        value: d.value,
        ...d.positions.compacted(),
        start: d.positions.start,
        ...(v?.kind && v.info && !v.info.custom && { verdict: { kind: v.kind, issues: v.issues, object: v.object } }),
      };
    }),
  };
}

const isPosition = (p: any): p is Position => !!p && Number.isInteger(p.line) && Number.isInteger(p.column);
const isRecord = (v: unknown): v is Record<string, any> => !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * The file `stored` holds, as loaded from `path`; undefined when it is not what storeFile wrote. `strings`: a
 * table the documents' and verdicts' strings are taken from (`stored` is then written into: it must be the
 * caller's own, just parsed from JSON).
 */
export function restoreFile(stored: unknown, path: string, strings?: StringTable): RestoredFile | undefined {
  if (!isRecord(stored) || !Number.isInteger(stored.chars) || !Number.isInteger(stored.bytes) || !Array.isArray(stored.docs)) return undefined;
  if (stored.error !== undefined && !(isPosition(stored.error) && typeof (stored.error as { message?: unknown }).message === 'string')) return undefined;
  const docs: LoadedDoc[] = [];
  const verdicts = new Map<LoadedDoc, Verdict>();
  for (const d of stored.docs) {
    if (!isRecord(d) || typeof d.fields !== 'string' || typeof d.where !== 'string' || !isPosition(d.start) || d.value === undefined) return undefined;
    // Parsed from JSON: flat strings, shared but not copied; field positions are read only when asked for.
    const doc: LoadedDoc = { file: path, value: strings ? strings.intern(d.value, true) : d.value, positions: DocPositions.ofCompact({ fields: d.fields, where: d.where }, d.start) };
    docs.push(doc);
    if (d.verdict === undefined) continue;
    const { kind, issues, object } = d.verdict;
    // The kind as this process knows it: a verdict of a kind it does not have built in is judged again.
    const info = typeof doc.value?.apiVersion === 'string' && typeof kind === 'string' ? kindInfoFor(doc.value.apiVersion, kind) : undefined;
    if (!info || info.custom || kind !== doc.value.kind || !Array.isArray(issues) || !issues.every((i) => isRecord(i) && i.file === path)) return undefined;
    if (object !== undefined && !(isRecord(object) && isRecord(object.metadata))) return undefined;
    if (typeof doc.value.metadata?.name === 'string') doc.name = doc.value.metadata.name;
    verdicts.set(doc, { issues, object: verdictObject(strings ? strings.intern(object, true) : object, doc), kind, info });
  }
  return { docs: docs.slice(), error: stored.error, chars: stored.chars, bytes: stored.bytes, verdicts }; // exact length, as parsedDocs'
}
