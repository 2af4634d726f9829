// Plain data → YAML text for people to read and diff: block style, keys in the object's own order, nothing folded.
import * as yaml from 'js-yaml';

/**
 * Stable output for line diffs: no anchors/aliases for shared objects (`noRefs`), no line folding (`lineWidth -1`),
 * no key sorting (a manifest reads in the order it was written), multi-line strings as `|` block scalars.
 * Fields whose value is `undefined` are left out, as JSON would.
 */
export function toYaml(value: unknown): string {
  return yaml.dump(value, { noRefs: true, lineWidth: -1, flowLevel: -1 });
}
