// The three kinds of field. Kubernetes silently drops fields it does not know; convergit says so instead:
// a field it implements is validated by the schema; a real Kubernetes field it does not implement is a warning
// (an error with --strict) and is dropped; anything else is an error with the closest known field suggested.
import { distance } from 'fastest-levenshtein';
import { isK8sResourceName, k8sNodeAt } from './k8s-fields.ts';
import type { Path } from './paths.ts';

export interface FieldVerdict {
  severity: 'error' | 'warning';
  message: string;
  /** The known field suggested for a typo. */
  suggestion?: string;
}

/** The candidate closest to `name`, compared case-insensitively, when it is close enough to be a likely typo. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const n = name.toLowerCase();
  const limit = n.length <= 3 ? 1 : Math.max(2, Math.floor(n.length / 3));
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    const d = distance(n, c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  if (bestD <= limit) return best;
  // An abbreviation (`mem` for `memory`) is too far for the edit distance but still a clear intent.
  return n.length >= 3 ? candidates.find((c) => c.toLowerCase().startsWith(n)) : undefined;
}

/** Judges property `name`, which the schema does not allow in the object at `parent` of an object of `kind`. */
export function classifyUnknown(kind: string, parent: Path, name: string, implemented: string[], strict: boolean): FieldVerdict {
  const node = k8sNodeAt(kind, parent);
  // Resource lists (requests/limits) are free-form maps in Kubernetes; only resource names are real there.
  const resourceList = !!node && 'map' in node;
  const k8sFields = node && 'fields' in node ? [...node.fields.keys()] : [];
  const real = resourceList ? isK8sResourceName(name) : k8sFields.includes(name);
  if (real) {
    const what = resourceList ? `"${name}" is a Kubernetes resource` : `${name} is a Kubernetes field`;
    return strict
      ? { severity: 'error', message: `${what} that convergit does not implement` }
      : { severity: 'warning', message: `${what} that convergit does not implement; it is ignored` };
  }
  const suggestion = closest(name, [...new Set([...implemented, ...k8sFields])]);
  const hint = suggestion ? `; did you mean "${suggestion}"?` : '';
  return { severity: 'error', message: `unknown field "${name}"${hint}`, suggestion };
}
