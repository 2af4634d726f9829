// A shared load's state (serve's sync loop): every file's part, in path order, with the objects they make and what
// the checks across files need, so that the next load of the same files but a few costs what those few change: at
// 10,000 files, a one-file commit's load walked every file, document and key (~25 ms on this machine), though each
// file's verdict was cached.
import type { Issue } from '../model/issue.ts';
import { CrossIndex } from './checks.ts';
import { issueAt, type LoadedDoc } from './doc.ts';
import { keptIngresses } from './kept-ingresses.ts';
import type { DesiredObject, LoadResult, ManifestFile } from './types.ts';
import { fileChanges } from '../model/file-changes.ts';
import { compareText } from '../model/compare-text.ts';

/**
 * A file's part of a shared load, for a file whose documents are all of built-in kinds (a custom resource's verdict,
 * or a kind not known yet, depends on the CRDs, which the next commit may change), kept by the file: the source
 * hands over an unchanged file as the same object.
 */
export interface FilePart {
  /** The load's options it was made under. */
  context: string;
  file: ManifestFile;
  /** The file as parsed: its documents, its YAML error, its size. */
  entry: { docs: LoadedDoc[]; error?: { line: number; column: number; message: string }; utf8: number; used: number };
  /** Its documents' issues (verdicts, volumes), in document order. */
  issues: readonly Issue[];
  /** Its objects loaded (not its documents with an error), in document order: handed out as they are. */
  objects: readonly DesiredObject[];
  /** Its documents of kept kinds (each kind's first in the load is warned about). */
  kept: readonly LoadedDoc[];
}

export class LoadState {
  private constructor(
    readonly context: string,
    private readonly files: readonly ManifestFile[],
    private readonly parts: readonly FilePart[],
    /** Where each file's objects begin in `objects`, and their end. */
    private readonly starts: Int32Array,
    private readonly objects: readonly DesiredObject[],
    private readonly total: number,
    /** Shared with the next state, which changes it: a state is used once. */
    private readonly cross: CrossIndex,
    /** Parts with an issue, a kept kind or an Ingress: all the load's issues but the cross checks' come from these. */
    private readonly notable: Set<FilePart>,
  ) {}

  /**
   * The state of a whole load: `parts` are its files', in path order, and `objects` theirs, in the same order (the
   * load's own, kept: handed out again by the next load).
   */
  static of(context: string, files: readonly ManifestFile[], parts: readonly FilePart[], objects: readonly DesiredObject[]): LoadState {
    const starts = new Int32Array(parts.length + 1);
    const cross = new CrossIndex();
    const notable = new Set<FilePart>();
    let total = 0, count = 0;
    parts.forEach((part, i) => {
      starts[i] = count;
      count += part.objects.length;
      total += part.entry.utf8;
      for (const doc of part.entry.docs) cross.add(doc);
      if (isNotable(part)) notable.add(part);
    });
    starts[parts.length] = count;
    if (count !== objects.length) throw new Error(`internal error: ${objects.length} objects for parts that make ${count}`);
    return new LoadState(context, files, parts, starts, objects, total, cross, notable);
  }

  /**
   * The state for `files` (in path order), made from this one when they differ by a few files (by identity, then
   * path), each of which `partOf` gives a part for, and they stay within `maxTotal` bytes; undefined otherwise (the
   * caller loads them whole). This state is not to be used after.
   */
  next(files: readonly ManifestFile[], partOf: (file: ManifestFile) => FilePart | undefined, maxTotal: number): LoadState | undefined {
    const changes = fileChanges(this.files, files);
    if (!changes) return undefined;
    const removed = changes.gone.map((i) => this.parts[i]);
    const added = new Map<number, FilePart>();
    for (const j of changes.come) {
      const part = partOf(files[j]);
      if (!part) return undefined;
      added.set(j, part);
    }
    /** By new index: the old index of an unchanged file (those not gone, in order), or -1. */
    const from = new Int32Array(files.length);
    for (let i = 0, j = 0, g = 0, c = 0; j < files.length; j++) {
      if (changes.come[c] === j) { from[j] = -1; c++; continue; }
      while (changes.gone[g] === i) { g++; i++; }
      from[j] = i++;
    }
    let total = this.total;
    // A CRD gone may have defined kinds the others use: the whole load looks (one that comes, soloPart refuses).
    if (removed.some((p) => p.entry.docs.some(isCrdDoc))) return undefined;
    for (const p of removed) total -= p.entry.utf8;
    for (const p of added.values()) total += p.entry.utf8;
    if (total > maxTotal) return undefined;

    const parts: FilePart[] = new Array(files.length);
    const starts = new Int32Array(files.length + 1);
    const pieces: DesiredObject[][] = [];
    let count = 0;
    for (let k = 0; k < files.length;) {
      if (from[k] < 0) {
        const part = parts[k] = added.get(k)!;
        starts[k++] = count;
        pieces.push(part.objects as DesiredObject[]);
        count += part.objects.length;
        continue;
      }
      // A run of unchanged files: their objects as they were, moved as one.
      const a = from[k];
      let n = 1;
      while (k + n < files.length && from[k + n] === a + n) n++;
      const shift = count - this.starts[a];
      for (let m = 0; m < n; m++) { parts[k + m] = this.parts[a + m]; starts[k + m] = this.starts[a + m] + shift; }
      pieces.push(this.objects.slice(this.starts[a], this.starts[a + n]) as DesiredObject[]);
      count += this.starts[a + n] - this.starts[a];
      k += n;
    }
    starts[files.length] = count;

    for (const p of removed) {
      this.notable.delete(p);
      for (const doc of p.entry.docs) this.cross.remove(doc);
    }
    for (const p of added.values()) {
      if (isNotable(p)) this.notable.add(p);
      for (const doc of p.entry.docs) this.cross.add(doc, before);
    }
    return new LoadState(this.context, files, parts, starts, ([] as DesiredObject[]).concat(...pieces), total, this.cross, this.notable);
  }

  /** The checks across files' issues (crossObjectChecks'). */
  crossIssues(): Issue[] {
    return this.cross.issues();
  }

  /** The load's result, as the whole load gives it (issues in the same order before they are sorted). */
  result(strict: boolean): LoadResult {
    const notable = [...this.notable].sort((a, b) => compareText(a.file.path, b.file.path));
    const issues: Issue[] = [];
    for (const p of notable) {
      const e = p.entry.error;
      if (e) issues.push({ severity: 'error', file: p.file.path, line: e.line, column: e.column, message: e.message });
    }
    for (const p of notable) issues.push(...p.issues);
    const kept = new Map<string, LoadedDoc>();
    for (const p of notable) for (const doc of p.kept) if (!kept.has(doc.info!.kind)) kept.set(doc.info!.kind, doc);
    for (const [kind, doc] of kept) issues.push(keptIssue(kind, doc, strict));
    issues.push(...this.crossIssues());
    issues.push(...keptIngresses(notable.flatMap((p) => p.entry.docs.filter((d) => INGRESSES.has(d.kind!))), strict));
    return { objects: this.objects.slice(), issues };
  }
}

/** One issue per kept kind and commit: it is stored and served, but nothing enforces it. */
export function keptIssue(kind: string, doc: LoadedDoc, strict: boolean): Issue {
  const message = `${kind} is kept, not run: validated, stored, pruned and served, but ${doc.info!.reason}`;
  return issueAt(doc, strict ? 'error' : 'warning', ['kind'], ['kind'], strict ? `${message} (--strict)` : message);
}

const INGRESSES = new Set(['Ingress', 'IngressClass']);
/** A CustomResourceDefinition as written (its kind may not be set yet). */
export const isCrdDoc = (d: LoadedDoc) => d.value?.kind === 'CustomResourceDefinition' && d.value?.apiVersion === 'apiextensions.k8s.io/v1';
const isNotable = (p: FilePart) => !!p.entry.error || p.issues.length > 0 || p.kept.length > 0 || p.entry.docs.some((d) => INGRESSES.has(d.kind!));

/** `a` comes before `b` in a load: by file, then place in it. */
const before = (a: LoadedDoc, b: LoadedDoc) => {
  const c = compareText(a.file, b.file);
  if (c) return c < 0;
  const p = a.positions.start, q = b.positions.start;
  return p.line < q.line || (p.line === q.line && p.column < q.column);
};
