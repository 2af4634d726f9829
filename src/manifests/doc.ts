// One loaded document and how issues about its fields are reported.
import type { Issue, Severity } from '../model/issue.ts';
import type { KindInfo } from '../model/kinds.ts';
import { displayPath, type Path } from './paths.ts';
import type { DocPositions } from './positions.ts';

export interface LoadedDoc {
  file: string;
  value: any; // plain JSON, as written
  positions: DocPositions;
  kind?: string; // when the document names a kind convergit accepts
  info?: KindInfo;
  name?: string; // metadata.name when it is a string
}

/** An issue about field `path` of `doc`, positioned at `at` (the field itself, or the nearest written ancestor). */
export function issueAt(doc: LoadedDoc, severity: Severity, path: Path, at: Path, message: string): Issue {
  const kind = doc.kind ?? (typeof doc.value?.kind === 'string' ? doc.value.kind : undefined);
  return { severity, file: doc.file, ...doc.positions.at(at), kind, name: doc.name, field: displayPath(path), message };
}
