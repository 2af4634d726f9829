// Which warnings a change brings and which were there before it, as reviewdog's filter-mode=added and SonarQube's
// "new code" tell them apart: one old `busybox` image must not ask for a look at every pull request. Pure.
import { objectKey } from '../model/key.ts';
import type { DesiredObject } from '../manifests/types.ts';
import type { ReviewWarning } from './report.ts';

/** The state the plan compares with, as far as its warnings go. */
export interface Before {
  /**
   * Reviewer warnings of that state: those that depend on other objects reviewed against itself, those about one
   * object alone for the objects the plan changes, and an unchanged object's own taken from the revision (review.ts).
   */
  warnings: ReviewWarning[];
  /** A base revision's loader warnings; undefined for a live state, whose objects do not keep them. */
  manifest?: ReviewWarning[];
}

/** What the plan does with the revision's objects: a loader warning is judged by its object when there is no base. */
export interface Touched {
  desired: DesiredObject[];
  /** Keys (objectKey) of the objects the plan creates or updates. */
  keys: ReadonlySet<string>;
}

/** Code, object, field and message: the same warning wherever it is written, so a moved line is not a new one. */
const identity = (w: ReviewWarning) =>
  JSON.stringify([w.code, w.kind ?? '', w.namespace ?? '', w.name ?? '', w.field ?? '', w.message]);

/** `warnings` with `preexisting: true` on each one that already held before; the others are what the change brings. */
export function markPreexisting(warnings: ReviewWarning[], before: Before, touched: Touched): ReviewWarning[] {
  const held = new Set(before.warnings.map(identity));
  const loaderHeld = before.manifest && new Set(before.manifest.map(identity));
  return warnings.map((w) => {
    const was = w.code !== 'Manifest' ? held.has(identity(w))
      // Against a base its loader warnings say; against a live state, an object the plan leaves alone was applied
      // with the same warning (serve logged it then).
      : loaderHeld ? loaderHeld.has(identity(w)) : untouched(w, touched);
    return was ? { ...w, preexisting: true as const } : w;
  });
}

function untouched(w: ReviewWarning, touched: Touched): boolean {
  const d = objectOf(w, touched.desired);
  return !!d && !touched.keys.has(objectKey(d.object));
}

/** The object a loader warning is about: in its file, the document that starts last at or before its line. */
function objectOf(w: ReviewWarning, desired: DesiredObject[]): DesiredObject | undefined {
  let found: DesiredObject | undefined;
  for (const d of desired) {
    if (d.file === w.file && d.line <= (w.line ?? 0) && (!found || d.line >= found.line)) found = d;
  }
  return found && found.object.kind === w.kind && found.object.metadata.name === w.name ? found : undefined;
}
