import type { Path } from './paths.ts';

/** A problem with one field of one object, before it gets a file position and a severity. */
export interface Violation {
  path: Path; // the field at fault (for a missing field: the field itself)
  at: Path; // where to point: the field, or for a missing one its nearest present ancestor
  message: string;
  /** Only a warning: the field is ignored (dropped from the loaded object), unless `keep`. */
  warning?: boolean;
  /** A warning about a field that stays as written (e.g. a CEL rule convergit could not evaluate). */
  keep?: boolean;
  /** The field is required but absent. */
  missing?: boolean;
  /** Set for a property the schema does not allow: its name and the fields implemented at that place. */
  unknown?: { name: string; implemented: string[] };
}
