// Completion indexes of an Indexed Job as Kubernetes keeps them in status.completedIndexes: ordered intervals,
// written `1,3-5,7` (two neighbours as `3,4`, three or more as a range).

export interface Interval { first: number; last: number }

export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

/** The pod's completion index from its annotation; undefined when missing or not a non-negative integer. */
export function completionIndexOf(annotations: Record<string, string> | undefined): number | undefined {
  const v = annotations?.[COMPLETION_INDEX_ANNOTATION];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** Parses `1,3-5`; entries at or past `completions` are dropped, malformed ones skipped (as the controller does). */
export function parseIndexes(text: string | undefined, completions: number): Interval[] {
  const out: Interval[] = [];
  for (const part of (text ?? '').split(',')) {
    if (!part) continue;
    const [a, b] = part.split('-');
    if (!/^\d+$/.test(a) || (b !== undefined && !/^\d+$/.test(b))) continue;
    const first = Number(a);
    if (first >= completions) break;
    const last = Math.min(b === undefined ? first : Number(b), completions - 1);
    const prev = out[out.length - 1];
    if (prev && prev.last === first - 1) prev.last = last;
    else out.push({ first, last });
  }
  return out;
}

/** The intervals with `indexes` added, merged and ordered. */
export function withIndexes(intervals: readonly Interval[], indexes: Iterable<number>): Interval[] {
  return merge(intervals, [...new Set(indexes)].sort((x, y) => x - y).map((i) => ({ first: i, last: i })));
}

export function merge(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const all = [...a, ...b].sort((x, y) => x.first - y.first);
  const out: Interval[] = [];
  for (const iv of all) {
    const prev = out[out.length - 1];
    if (!prev || iv.first > prev.last + 1) out.push({ ...iv });
    else if (iv.last > prev.last) prev.last = iv.last;
  }
  return out;
}

export const totalOf = (intervals: readonly Interval[]) => intervals.reduce((n, iv) => n + iv.last - iv.first + 1, 0);

export const hasIndex = (intervals: readonly Interval[], ix: number) => intervals.some((iv) => iv.first <= ix && ix <= iv.last);

export function formatIndexes(intervals: readonly Interval[]): string {
  return intervals.map((iv) => (iv.last === iv.first ? `${iv.first}` : `${iv.first}${iv.last === iv.first + 1 ? ',' : '-'}${iv.last}`)).join(',');
}

/** The first `count` indexes below `completions` that are neither taken (active) nor done. */
export function firstPendingIndexes(done: readonly Interval[], taken: Iterable<number>, count: number, completions: number): number[] {
  const nonPending = withIndexes(done, taken);
  const out: number[] = [];
  for (let ix = 0; ix < completions && out.length < count; ix++) if (!hasIndex(nonPending, ix)) out.push(ix);
  return out;
}
