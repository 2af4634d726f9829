// A reviewer warning about one field of a desired object, placed where that field is written.
import type { Path } from '../manifests/paths.ts';
import { displayPath } from '../manifests/paths.ts';
import type { DesiredObject } from '../manifests/types.ts';
import type { ReviewWarning } from './report.ts';
import { compareText } from '../model/compare-text.ts';

export function warningAt(d: DesiredObject, code: string, path: Path, message: string): ReviewWarning {
  const { line, column } = d.positions.at(path);
  const { kind, metadata } = d.object;
  return { code, kind, namespace: metadata.namespace, name: metadata.name, file: d.file, line, column, field: displayPath(path), message };
}

/** By file, line, column, then code: the order a reviewer reads them in. */
export const byPlace = (a: ReviewWarning, b: ReviewWarning) =>
  compareText(a.file ?? '', b.file ?? '') || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || compareText(a.code, b.code);
