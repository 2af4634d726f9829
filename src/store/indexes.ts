// In-memory indexes over the stored objects, so list by kind, namespace or label touches only what can match.
// Stored objects are never mutated in place (an update puts a new object), so the indexes and the watch history
// can share references safely.
import type { KubeObject } from '../model/object.ts';
import { matchesRequirements, type Requirement } from '../model/selector.ts';
import { IndexBuckets } from './index-buckets.ts';
import { intern } from '../model/intern.ts';
import { compareText } from '../model/compare-text.ts';

/** Namespace and name inside one kind; cluster-scoped objects use namespace ''. */
const nsName = (ns: string, name: string) => `${ns}/${name}`;
const labelKey = (k: string, v: string) => `${k}=${v}`;

/** Where `name` is, or would go, in the sorted `names` (code unit order, as byNamespaceName). */
function position(names: string[], name: string): number {
  let lo = 0, hi = names.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (names[mid] < name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class ObjectIndex {
  /** kind → namespace → name → object */
  private byKind = new Map<string, Map<string, Map<string, KubeObject>>>();
  /** kind → namespace → its names in order, kept as names come and go (not when an object is replaced), so a list
   * comes out sorted without sorting: a list of 30,000 pods sorted them on every call (the health monitor's, the
   * API's), and the order only changes when a name is added or removed. */
  private sortedNames = new Map<string, Map<string, string[]>>();
  /** kind → `label=value` → `namespace/name` */
  private byLabel = new Map<string, IndexBuckets<string>>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  get(kind: string, ns: string, name: string): KubeObject | undefined {
    return this.byKind.get(kind)?.get(ns)?.get(name);
  }

  /** Adds or replaces the object at its kind/namespace/name; returns the one it replaced. */
  put(obj: KubeObject): KubeObject | undefined {
    const { kind } = obj;
    const ns = obj.metadata.namespace ?? '';
    const name = obj.metadata.name;
    let nss = this.byKind.get(kind);
    if (!nss) this.byKind.set(kind, (nss = new Map()));
    let names = nss.get(ns);
    if (!names) nss.set(ns, (names = new Map()));
    let labels = this.byLabel.get(kind);
    if (!labels) this.byLabel.set(kind, (labels = new IndexBuckets()));
    const old = names.get(name);
    // Most writes keep the labels object itself (a status write, a new version of the same metadata): nothing to move.
    const relabel = old?.metadata.labels !== obj.metadata.labels;
    if (old && relabel) this.unlabel(labels, ns, name, old);
    if (!old) {
      this.count++;
      let sorted = this.sortedNames.get(kind);
      if (!sorted) this.sortedNames.set(kind, (sorted = new Map()));
      let order = sorted.get(ns);
      if (!order) sorted.set(ns, (order = []));
      order.splice(position(order, name), 0, name);
    }
    names.set(name, obj);
    if (relabel) {
      const key = intern(nsName(ns, name)); // kept as an entry's key and item: one string
      for (const [k, v] of Object.entries(obj.metadata.labels ?? {})) labels.put(labelKey(k, v), key, key);
    }
    return old;
  }

  remove(kind: string, ns: string, name: string): KubeObject | undefined {
    const nss = this.byKind.get(kind);
    const names = nss?.get(ns);
    const old = names?.get(name);
    if (!old) return undefined;
    names!.delete(name);
    const sorted = this.sortedNames.get(kind)!;
    if (names!.size === 0) {
      nss!.delete(ns);
      sorted.delete(ns);
    } else {
      const order = sorted.get(ns)!;
      order.splice(position(order, name), 1);
    }
    this.count--;
    this.unlabel(this.byLabel.get(kind)!, ns, name, old);
    return old;
  }

  private unlabel(labels: IndexBuckets<string>, ns: string, name: string, old: KubeObject): void {
    for (const [k, v] of Object.entries(old.metadata.labels ?? {})) labels.remove(labelKey(k, v), nsName(ns, name));
  }

  /**
   * Objects of a kind, optionally in one namespace and matching all requirements, sorted by namespace then name.
   * An `In` requirement narrows the candidates through the label index; the rest filter the narrowed set.
   */
  list(kind: string, ns?: string, reqs: Requirement[] = []): KubeObject[] {
    const nss = this.byKind.get(kind);
    if (!nss) return [];
    const keys = this.narrowByLabel(kind, reqs);
    const nsSize = ns === undefined ? Infinity : (nss.get(ns)?.size ?? 0);
    const out: KubeObject[] = [];
    if (keys && keys.size < nsSize) {
      for (const k of keys.keys) {
        const slash = k.indexOf('/');
        const o = nss.get(k.slice(0, slash))!.get(k.slice(slash + 1))!;
        if (ns !== undefined && (o.metadata.namespace ?? '') !== ns) continue;
        if (matchesRequirements(reqs, o.metadata.labels)) out.push(o);
      }
      return out.sort(byNamespaceName);
    }
    // In order already: namespaces sorted (few), each one's names kept sorted.
    const sorted = this.sortedNames.get(kind)!;
    for (const n of ns !== undefined ? [ns] : [...nss.keys()].sort()) {
      const names = nss.get(n);
      if (!names) continue;
      for (const name of sorted.get(n)!) {
        const o = names.get(name)!;
        if (!reqs.length || matchesRequirements(reqs, o.metadata.labels)) out.push(o);
      }
    }
    return out;
  }

  /** Every object, for persisting. */
  *all(): Iterable<KubeObject> {
    for (const nss of this.byKind.values()) for (const names of nss.values()) yield* names.values();
  }

  /**
   * The keys of the smallest candidate set any `In` requirement allows (the index's own when one value has them), or
   * undefined when no requirement can use the index.
   */
  private narrowByLabel(kind: string, reqs: Requirement[]): { keys: Iterable<string>; size: number } | undefined {
    const labels = this.byLabel.get(kind);
    let best: { keys: Iterable<string>; size: number } | undefined;
    for (const r of reqs) {
      if (r.operator !== 'In') continue;
      const found = labels ? r.values.map((v) => labelKey(r.key, v)).filter((at) => labels.count(at) > 0) : [];
      let union: { keys: Iterable<string>; size: number };
      if (found.length === 1) union = { keys: labels!.items(found[0]), size: labels!.count(found[0]) };
      else {
        const keys = new Set(found.flatMap((at) => [...labels!.items(at)]));
        union = { keys, size: keys.size };
      }
      if (!best || union.size < best.size) best = union;
    }
    return best;
  }
}

export function byNamespaceName(a: KubeObject, b: KubeObject): number {
  const an = a.metadata.namespace ?? '', bn = b.metadata.namespace ?? '';
  if (an !== bn) return an < bn ? -1 : 1;
  return compareText(a.metadata.name, b.metadata.name);
}
