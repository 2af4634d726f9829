// Checks across the objects of one revision: each object defined once, and every namespace either committed
// as a Namespace in the same revision or built in.
import type { Issue } from '../model/issue.ts';
import { BUILTIN_NAMESPACES, isNamespaced } from '../model/kinds.ts';
import { displayName, objectKey } from '../model/key.ts';
import { isDnsLabel } from '../model/names.ts';
import { issueAt, type LoadedDoc } from './doc.ts';

/** `docs` are the documents whose kind and name are known, in file order. */
export function crossObjectChecks(docs: LoadedDoc[]): Issue[] {
  const issues: Issue[] = [];
  const first = new Map<string, LoadedDoc>();
  const committed = new Set(docs.filter((d) => d.kind === 'Namespace').map((d) => d.name));

  for (const d of docs) {
    if (!d.kind || d.name === undefined) continue;
    const ns = d.value.metadata?.namespace;
    const meta = { name: d.name, namespace: typeof ns === 'string' ? ns : undefined };
    const key = objectKey({ apiVersion: d.value.apiVersion, kind: d.kind, metadata: meta });
    const prev = first.get(key);
    if (prev) {
      const shown = { kind: d.kind, metadata: { name: d.name, namespace: isNamespaced(d.kind) ? meta.namespace ?? 'default' : undefined } };
      issues.push(issueAt(d, 'error', ['metadata', 'name'], ['metadata', 'name'],
        `duplicate ${displayName(shown)}, first defined at ${prev.file}:${prev.positions.start.line}`));
    } else first.set(key, d);

    if (isNamespaced(d.kind) && meta.namespace && isDnsLabel(meta.namespace)
      && !BUILTIN_NAMESPACES.includes(meta.namespace) && !committed.has(meta.namespace)) {
      issues.push(issueAt(d, 'error', ['metadata', 'namespace'], ['metadata', 'namespace'],
        `namespace "${meta.namespace}" does not exist: commit a Namespace named "${meta.namespace}" or use a built-in one (${BUILTIN_NAMESPACES.join(', ')})`));
    }
  }
  return issues;
}
