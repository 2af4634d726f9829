// A problem found in a revision: where it is (file:line:column), which object, which field, and why.

export type Severity = 'error' | 'warning';

export interface Issue {
  severity: Severity;
  file: string;
  line: number; // 1-based
  column: number; // 1-based
  kind?: string;
  name?: string;
  field?: string; // dotted path, e.g. spec.template.spec.containers[0].image
  message: string;
}

/** `file:line:column: kind/name: field: message`, the format every CLI and page prints. */
export function formatIssue(i: Issue): string {
  const obj = i.kind ? `${i.kind}/${i.name ?? '?'}` : '-';
  return `${i.file}:${i.line}:${i.column}: ${obj}: ${i.field || '-'}: ${i.message}`;
}
