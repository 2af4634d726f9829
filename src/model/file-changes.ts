// How one revision's files differ from the last's, told by identity: the source hands over an unchanged file as
// the very same object, so two lists of 10,000 files in path order are compared by pointer, and paths only where
// they differ.
import { compareText } from './compare-text.ts';


export interface FileChanges {
  /** Indices in the last list of its files not in the new one (removed, or changed: another object at the path). */
  gone: number[];
  /** Indices in the new list of its files not in the last one (added or changed). */
  come: number[];
}

/**
 * Most files two revisions may differ by for the steps made from their last pass (the load, the build) to be made so:
 * past that, a whole pass is quicker.
 */
export const MOST_CHANGED = 256;

/** The changes from `last` to `next`, both in path order; undefined past `most` files, or where `next` is out of order. */
export function fileChanges(last: readonly { path: string }[], next: readonly { path: string }[], most = MOST_CHANGED): FileChanges | undefined {
  const gone: number[] = [], come: number[] = [];
  let i = 0, j = 0;
  while (i < last.length || j < next.length) {
    if (i < last.length && j < next.length && last[i] === next[j]) { i++; j++; continue; }
    if (gone.length + come.length >= most) return undefined;
    const c = i === last.length ? 1 : j === next.length ? -1 : compareText(last[i].path, next[j].path);
    if (c <= 0) gone.push(i++);
    if (c >= 0) {
      // In path order, and no path twice.
      if ((j > 0 && compareText(next[j - 1].path, next[j].path) >= 0) || (j + 1 < next.length && compareText(next[j].path, next[j + 1].path) >= 0)) return undefined;
      come.push(j++);
    }
  }
  return { gone, come };
}

/** No path twice, in path order. */
export const inPathOrder = (list: readonly { path: string }[]) => list.every((f, i) => i === 0 || list[i - 1].path < f.path);

/**
 * `list` (in path order, no path twice) without the files of `gone` it holds (the same objects) and with those of
 * `come` (in path order, none at a path `list` keeps), each placed by binary search: a few changes to 10,000 files
 * cost a few searches and the copy of the rest.
 */
export function withChanges<T extends { path: string }>(list: readonly T[], gone: readonly T[], come: readonly T[]): T[] {
  const cuts: { at: number; add?: T }[] = [];
  for (const g of gone) {
    const at = lowerBound(list, g.path);
    if (list[at] === g) cuts.push({ at });
  }
  for (const add of come) cuts.push({ at: lowerBound(list, add.path), add });
  cuts.sort((a, b) => a.at - b.at || (a.add ? (b.add ? compareText(a.add.path, b.add.path) : -1) : b.add ? 1 : 0));
  const out: T[] = [];
  let from = 0;
  for (const cut of cuts) {
    for (let k = from; k < cut.at; k++) out.push(list[k]);
    from = Math.max(from, cut.at);
    if (cut.add) out.push(cut.add);
    else from = cut.at + 1; // removed
  }
  for (let k = from; k < list.length; k++) out.push(list[k]);
  return out;
}

/** The first index of `list` (in path order) whose path is not before `path`. */
export function lowerBound<T extends { path: string }>(list: readonly T[], path: string): number {
  let lo = 0, hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].path < path) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Files in path order (by UTF-16 units, as `inPathOrder` and the binary searches compare them). */
export const byPath = (a: { path: string }, b: { path: string }) => compareText(a.path, b.path);
