// Fields Kubernetes does not have. Kubernetes silently drops them (unless asked for strict validation); convergit
// says so, with the closest real field suggested, because a misspelt field is a setting that silently does nothing.
import { distance } from 'fastest-levenshtein';
import { shorten } from './paths.ts';

/** The candidate closest to `name`, compared case-insensitively, when it is close enough to be a likely typo. */
export function closest(name: string, candidates: readonly string[]): string | undefined {
  const n = name.toLowerCase();
  const limit = n.length <= 3 ? 1 : Math.max(2, Math.floor(n.length / 3));
  let best: string | undefined, bestD = Infinity;
  for (const c of candidates) {
    // The distance is at least the difference in length: a far longer name (a hostile 3 MB key) is not compared.
    if (Math.abs(c.length - n.length) > Math.min(limit, bestD)) continue;
    const d = distance(n, c.toLowerCase());
    if (d < bestD) { best = c; bestD = d; }
  }
  if (bestD <= limit) return best;
  // An abbreviation (`mem` for `memory`) is too far for the edit distance but still a clear intent.
  return n.length >= 3 ? candidates.find((c) => c.toLowerCase().startsWith(n)) : undefined;
}

/** The error for property `name`, which the object's Kubernetes type does not have; `fields` are the ones it has. */
export function unknownField(name: string, fields: readonly string[]): { message: string; suggestion?: string } {
  const suggestion = closest(name, fields);
  return { message: `unknown field "${shorten(name)}"${suggestion ? `; did you mean "${suggestion}"?` : ''}`, suggestion };
}
