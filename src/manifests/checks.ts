// Checks across the objects of one revision: each object defined once, and every namespace either committed
// as a Namespace in the same revision or built in.
import type { Issue } from '../model/issue.ts';
import { BUILTIN_NAMESPACES, isNamespaced } from '../model/kinds.ts';
import { displayName, objectKey } from '../model/key.ts';
import { isDnsLabel } from '../model/names.ts';
import { issueAt, type LoadedDoc } from './doc.ts';
import { intern } from '../model/intern.ts';

/** `docs` are the documents whose kind and name are known, in file order. */
export function crossObjectChecks(docs: LoadedDoc[]): Issue[] {
  const index = new CrossIndex();
  for (const d of docs) index.add(d);
  return index.issues();
}

/**
 * What the checks across objects need of a load's documents, kept so that a commit changes it by the documents it
 * changed (add, remove) and asks for the issues: a one-file commit of 10,000 objects no longer builds a map of
 * every object's key (~4 ms on this machine). Documents are added in file order, or anywhere given `before`.
 * Issues come in no particular order; the load sorts them by place.
 */
export class CrossIndex {
  /** Documents by object key, in file order: more than one is a duplicate. */
  private byKey = new Map<string, LoadedDoc | LoadedDoc[]>();
  private duplicated = new Set<string>();
  /** Committed Namespaces by name (a count: two of one name are a duplicate, and removing one leaves the other). */
  private committed = new Map<string | undefined, number>();
  /** Documents in a namespace that must be committed, by namespace. */
  private needing = new Map<string, Set<LoadedDoc>>();
  /** Services with a selector, by `<namespace>/<name>`. */
  private selected = new Map<string, number>();
  /** Committed Endpoints and EndpointSlices. */
  private endpoints = new Set<LoadedDoc>();

  /** `before`: orders two documents by their place in the load (for a document added out of file order). */
  add(d: LoadedDoc, before?: (a: LoadedDoc, b: LoadedDoc) => boolean): void {
    if (d.kind === 'Namespace') this.committed.set(d.name, (this.committed.get(d.name) ?? 0) + 1);
    if (!d.kind || d.name === undefined) return;
    const id = identityOf(d);
    const had = this.byKey.get(id.key);
    if (!had) this.byKey.set(id.key, d);
    else {
      const list = Array.isArray(had) ? had : [had];
      let at = list.length;
      if (before) while (at > 0 && before(d, list[at - 1])) at--;
      list.splice(at, 0, d);
      this.byKey.set(id.key, list);
      this.duplicated.add(id.key);
    }
    if (id.needs !== undefined) {
      let docs = this.needing.get(id.needs);
      if (!docs) this.needing.set(id.needs, (docs = new Set()));
      docs.add(d);
    }
    if (id.selects !== undefined) this.selected.set(id.selects, (this.selected.get(id.selects) ?? 0) + 1);
    if (id.endpoints !== undefined) this.endpoints.add(d);
  }

  /** Takes out a document added before (the same object). */
  remove(d: LoadedDoc): void {
    if (d.kind === 'Namespace') decrement(this.committed, d.name);
    if (!d.kind || d.name === undefined) return;
    const id = identityOf(d);
    const had = this.byKey.get(id.key);
    if (had === d) this.byKey.delete(id.key);
    else if (Array.isArray(had)) {
      const list = had.filter((x) => x !== d);
      this.byKey.set(id.key, list.length === 1 ? list[0] : list);
      if (list.length === 1) this.duplicated.delete(id.key);
    }
    if (id.needs !== undefined) {
      const docs = this.needing.get(id.needs);
      docs?.delete(d);
      if (!docs?.size) this.needing.delete(id.needs);
    }
    if (id.selects !== undefined) decrement(this.selected, id.selects);
    if (id.endpoints !== undefined) this.endpoints.delete(d);
  }

  issues(): Issue[] {
    const issues: Issue[] = [];
    for (const key of this.duplicated) {
      const [first, ...others] = this.byKey.get(key) as LoadedDoc[];
      for (const d of others) {
        const id = identityOf(d);
        const shown = { kind: id.kind, metadata: { name: id.name, namespace: id.namespaced ? id.namespace ?? 'default' : undefined } };
        issues.push(issueAt(d, 'error', ['metadata', 'name'], ['metadata', 'name'],
          `duplicate ${displayName(shown)}, first defined at ${first.file}:${first.positions.start.line}`));
      }
    }
    for (const [ns, docs] of this.needing) {
      if (this.committed.get(ns)) continue;
      for (const d of docs) {
        issues.push(issueAt(d, 'error', ['metadata', 'namespace'], ['metadata', 'namespace'],
          `namespace "${ns}" does not exist: commit a Namespace named "${ns}" or use a built-in one (${BUILTIN_NAMESPACES.join(', ')})`));
      }
    }
    for (const d of this.endpoints) {
      const { key, service } = identityOf(d).endpoints!;
      if (!this.selected.get(key)) continue;
      // Endpoints and EndpointSlices are written by the endpoints controllers for a Service with a selector:
      // committing them would fight the controller. For a Service without a selector they are how its backends are given.
      if (d.kind === 'Endpoints') issues.push(issueAt(d, 'error', ['kind'], ['kind'], `Endpoints ${d.name} belong to Service ${service}, which has a selector: the endpoints controller writes them; remove the selector to give the endpoints by hand`));
      else issues.push(issueAt(d, 'error', ['metadata', 'labels'], ['metadata', 'labels'], `EndpointSlice ${d.name} belongs to Service ${service}, which has a selector: the endpoint slice controller writes them; remove the selector to give the endpoints by hand`));
    }
    return issues;
  }
}

function decrement<K>(counts: Map<K, number>, key: K): void {
  const n = (counts.get(key) ?? 0) - 1;
  if (n > 0) counts.set(key, n);
  else counts.delete(key);
}

/** Every field set at once (one shape, in-object: 10,000 of them are kept). */
interface Identity {
  kind: string;
  name: string;
  info: LoadedDoc['info'];
  key: string;
  /** metadata.namespace when a string. */
  namespace: string | undefined;
  namespaced: boolean;
  /** The namespace it is in, when that must be committed as a Namespace (not built in). */
  needs: string | undefined;
  /** `<namespace>/<name>` of a Service with a selector. */
  selects: string | undefined;
  /** The Service (`<namespace>/<name>`, and its name) whose endpoints a committed Endpoints or EndpointSlice gives. */
  endpoints: { key: string; service: string } | undefined;
}

/**
 * A document's identity and its part in the checks, remembered: a cached document is the same object from load to
 * load, and its kind and name are set again by each load (a custom resource's kind, and its scope, may come and go
 * with its CRD), so they are part of the memo.
 */
const identities = new WeakMap<LoadedDoc, Identity>();
function identityOf(d: LoadedDoc): Identity {
  const hit = identities.get(d);
  if (hit && hit.kind === d.kind && hit.name === d.name && hit.info === d.info) return hit;
  const value = d.value, ns = value.metadata?.namespace;
  const namespace = typeof ns === 'string' ? ns : undefined;
  const kind = d.kind!, name = d.name!;
  const namespaced = d.info?.namespaced ?? isNamespaced(kind);
  const inNs = value?.metadata?.namespace ?? 'default';
  const owner = value?.metadata?.labels?.['kubernetes.io/service-name'];
  const id: Identity = {
    kind, name, info: d.info, namespace, namespaced,
    key: intern(objectKey({ apiVersion: value.apiVersion, kind, metadata: { name, namespace } })),
    needs: namespaced && namespace && isDnsLabel(namespace) && !BUILTIN_NAMESPACES.includes(namespace) ? namespace : undefined,
    selects: kind === 'Service' && value?.spec?.selector && Object.keys(value.spec.selector).length ? intern(`${inNs}/${name}`) : undefined,
    endpoints: kind === 'Endpoints' ? { key: intern(`${inNs}/${name}`), service: name } : kind === 'EndpointSlice' && typeof owner === 'string' ? { key: intern(`${inNs}/${owner}`), service: owner } : undefined,
  };
  identities.set(d, id);
  return id;
}
