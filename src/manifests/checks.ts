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
    const { key, meta } = identityOf(d);
    const prev = first.get(key);
    if (prev) {
      const shown = { kind: d.kind, metadata: { name: d.name, namespace: (d.info?.namespaced ?? isNamespaced(d.kind)) ? meta.namespace ?? 'default' : undefined } };
      issues.push(issueAt(d, 'error', ['metadata', 'name'], ['metadata', 'name'],
        `duplicate ${displayName(shown)}, first defined at ${prev.file}:${prev.positions.start.line}`));
    } else first.set(key, d);

    if ((d.info?.namespaced ?? isNamespaced(d.kind)) && meta.namespace && isDnsLabel(meta.namespace)
      && !BUILTIN_NAMESPACES.includes(meta.namespace) && !committed.has(meta.namespace)) {
      issues.push(issueAt(d, 'error', ['metadata', 'namespace'], ['metadata', 'namespace'],
        `namespace "${meta.namespace}" does not exist: commit a Namespace named "${meta.namespace}" or use a built-in one (${BUILTIN_NAMESPACES.join(', ')})`));
    }
  }
  issues.push(...managedEndpoints(docs));
  return issues;
}

/**
 * A document's key, remembered: a cached document is the same object from load to load, and its kind and name
 * are set again by each load (a custom resource's kind may come and go with its CRD), so they are part of the memo.
 */
const identities = new WeakMap<LoadedDoc, { kind: string; name: string; key: string; meta: { name: string; namespace?: string } }>();
function identityOf(d: LoadedDoc) {
  const hit = identities.get(d);
  if (hit && hit.kind === d.kind && hit.name === d.name) return hit;
  const ns = d.value.metadata?.namespace;
  const meta = { name: d.name!, namespace: typeof ns === 'string' ? ns : undefined };
  const id = { kind: d.kind!, name: d.name!, meta, key: objectKey({ apiVersion: d.value.apiVersion, kind: d.kind!, metadata: meta }) };
  identities.set(d, id);
  return id;
}

/**
 * Endpoints and EndpointSlices are written by the endpoints controllers for a Service with a selector: committing
 * them would fight the controller. For a Service without a selector they are how its backends are given.
 */
function managedEndpoints(docs: LoadedDoc[]): Issue[] {
  const selected = new Set(docs.filter((d) => d.kind === 'Service' && d.value?.spec?.selector && Object.keys(d.value.spec.selector).length)
    .map((d) => `${d.value.metadata?.namespace ?? 'default'}/${d.name}`));
  const out: Issue[] = [];
  for (const d of docs) {
    const ns = d.value?.metadata?.namespace ?? 'default';
    if (d.kind === 'Endpoints' && selected.has(`${ns}/${d.name}`)) {
      out.push(issueAt(d, 'error', ['kind'], ['kind'], `Endpoints ${d.name} belong to Service ${d.name}, which has a selector: the endpoints controller writes them; remove the selector to give the endpoints by hand`));
    }
    const owner = d.value?.metadata?.labels?.['kubernetes.io/service-name'];
    if (d.kind === 'EndpointSlice' && typeof owner === 'string' && selected.has(`${ns}/${owner}`)) {
      out.push(issueAt(d, 'error', ['metadata', 'labels'], ['metadata', 'labels'], `EndpointSlice ${d.name} belongs to Service ${owner}, which has a selector: the endpoint slice controller writes them; remove the selector to give the endpoints by hand`));
    }
  }
  return out;
}
