// A cache of one kind kept current by a watch, with handlers for changes: what controllers, the scheduler and
// node executors read from, as Kubernetes components read from informers instead of asking the API server.
import type { KubeObject } from '../model/object.ts';
import { isNamespaced } from '../model/kinds.ts';
import type { ListOptions, Store, WatchEvent, WatchOptions } from './store.ts';
import { keyOf } from '../model/key.ts';
import { intern } from '../model/intern.ts';
import { IndexBuckets } from './index-buckets.ts';
import { matchesSelector } from '../model/selector.ts';

export interface InformerHandlers {
  add?(obj: KubeObject): void;
  update?(old: KubeObject, obj: KubeObject): void;
  delete?(obj: KubeObject): void;
}

const rvOf = (o: KubeObject) => Number(o.metadata.resourceVersion ?? 0);
type Index = { of: (o: KubeObject) => string[]; by: IndexBuckets<KubeObject> };
/** client-go's NamespaceIndex: a namespace's objects without a scan of the whole kind. */
const NAMESPACE_INDEX = 'namespace';
/** Objects by namespace and label pair, made on the first withLabels(). */
const LABEL_INDEX = 'label';
const labelValue = (namespace: string, key: string, value: string) => `${namespace}\0${key}\0${value}`;
const labelValues = (o: KubeObject) => {
  const ns = o.metadata.namespace ?? '', labels = o.metadata.labels;
  return labels ? Object.keys(labels).map((k) => labelValue(ns, k, labels[k])) : [];
};

export class Informer {
  private cache = new Map<string, KubeObject>();
  private handlers: InformerHandlers[] = [];
  private stopWatch?: () => void;
  private synced = false;
  /** Indexers, as client-go's: name → (values of an object, objects by value → by key). */
  private indexes = new Map<string, Index>([[NAMESPACE_INDEX, { of: (o) => [o.metadata.namespace ?? ''], by: new IndexBuckets() }]]);

  /** `match` and `nodeName` narrow the cache further (e.g. a node's own pods): objects entering or leaving it are added or deleted. */
  constructor(private store: Store, readonly kind: string, private opts: ListOptions & Pick<WatchOptions, 'match' | 'nodeName'> = {}) {}

  /** Handlers only enqueue work; they must not write to the store synchronously in bulk. */
  on(h: InformerHandlers): this {
    this.handlers.push(h);
    return this;
  }

  /** Watches first, then lists, so that no change between the two is missed; versions settle any overlap. */
  async start(): Promise<void> {
    // Shared: the cache holds the store's own (never changed in place) objects, not a copy per informer.
    this.stopWatch = await this.store.watch({ ...this.opts, kind: this.kind, shared: true }, (e) => this.onEvent(e));
    const { match, nodeName, ...listOpts } = this.opts;
    for (const o of await this.store.list(this.kind, { ...listOpts, shared: true })) {
      if ((match && !match(o)) || (nodeName !== undefined && o.spec?.nodeName !== nodeName)) continue;
      const key = keyOf(o), cur = this.cache.get(key);
      if (cur && rvOf(cur) >= rvOf(o)) continue;
      this.put(key, o, cur);
      for (const h of this.handlers) (cur ? h.update?.(cur, o) : h.add?.(o));
    }
    this.synced = true;
  }

  stop(): void {
    this.stopWatch?.();
    this.stopWatch = undefined;
  }

  get hasSynced(): boolean {
    return this.synced;
  }

  /** The cached object; do not mutate it. */
  get(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.cache.get(`${isNamespaced(this.kind) ? namespace || 'default' : ''}/${name}`);
  }

  /**
   * Adds an index (client-go's Indexer): `of` gives the values an object is found under. Adding one of a name
   * already there keeps the first, so controllers sharing an informer may each ask for it.
   */
  addIndex(name: string, of: (o: KubeObject) => string[]): void {
    if (this.indexes.has(name)) return;
    const index: Index = { of, by: new IndexBuckets() };
    this.indexes.set(name, index);
    for (const [key, o] of this.cache) this.indexPut(index, key, o);
  }

  /** Cached objects found under `value` in the index `name`; do not mutate them. */
  byIndex(name: string, value: string): KubeObject[] {
    const index = this.indexes.get(name);
    if (!index) throw new Error(`informer ${this.kind}: no index ${name}`);
    return [...index.by.items(value)];
  }

  /**
   * Cached objects of `namespace` carrying every label of `matchLabels` (a Service's selector, not empty): read
   * through the pair with the fewest objects, not by matching every object of the namespace (a Service of 300 pods
   * among 30,000 was a scan of 30,000 at each of its syncs). Do not mutate them.
   */
  withLabels(namespace: string, matchLabels: Record<string, string>): KubeObject[] {
    this.addIndex(LABEL_INDEX, labelValues);
    const by = this.indexes.get(LABEL_INDEX)!.by;
    const pairs = Object.entries(matchLabels);
    if (!pairs.length) throw new Error('internal error: withLabels needs a label');
    let fewest = labelValue(namespace, ...pairs[0]);
    for (const [k, v] of pairs.slice(1)) if (by.count(labelValue(namespace, k, v)) < by.count(fewest)) fewest = labelValue(namespace, k, v);
    const out: KubeObject[] = [];
    for (const o of by.items(fewest)) if (pairs.every(([k, v]) => o.metadata.labels?.[k] === v)) out.push(o);
    return out;
  }

  /**
   * Cached objects of `namespace` whose selector (`selectorOf`: a matchLabels map; none or empty selects nothing)
   * `labels` satisfy, such as the Services of a pod. Each object is indexed (as `index`, which names what
   * `selectorOf` reads) under one pair of its selector, so a pod's labels find its Services in a few lookups, not by
   * matching it against every Service of its namespace at each of its changes. Do not mutate them.
   */
  selecting(index: string, selectorOf: (o: KubeObject) => Record<string, string> | undefined, namespace: string, labels: Record<string, string> | undefined): KubeObject[] {
    const name = `selector:${index}`; // never one of the informer's own indexes
    this.addIndex(name, (o) => {
      const sel = selectorOf(o);
      for (const k in sel) return [labelValue(o.metadata.namespace ?? '', k, sel[k])];
      return [];
    });
    const out: KubeObject[] = [];
    if (!labels) return out;
    const by = this.indexes.get(name)!.by;
    for (const k in labels) {
      for (const o of by.items(labelValue(namespace, k, labels[k]))) if (matchesSelector({ matchLabels: selectorOf(o) }, labels)) out.push(o);
    }
    return out;
  }

  /** Cached objects, of one namespace when given; do not mutate them. */
  list(namespace?: string): KubeObject[] {
    return namespace === undefined ? [...this.cache.values()] : this.byIndex(NAMESPACE_INDEX, namespace);
  }

  private onEvent(e: WatchEvent): void {
    const key = keyOf(e.object);
    const cur = this.cache.get(key);
    if (e.type === 'DELETED') {
      if (!cur) return;
      this.cache.delete(key);
      for (const index of this.indexes.values()) this.indexRemove(index, key, cur);
      for (const h of this.handlers) h.delete?.(e.object);
      return;
    }
    if (cur && rvOf(cur) >= rvOf(e.object)) return;
    this.put(key, e.object, cur);
    for (const h of this.handlers) (cur ? h.update?.(cur, e.object) : h.add?.(e.object));
  }

  private put(key: string, o: KubeObject, cur: KubeObject | undefined): void {
    if (!cur) key = intern(key); // a new entry's key is kept (an update's Map keeps its own)
    this.cache.set(key, o);
    for (const index of this.indexes.values()) {
      // Values it keeps are set in place, so an updated object keeps its position, as in the cache itself.
      if (cur) this.indexRemove(index, key, cur, index.of(o));
      this.indexPut(index, key, o);
    }
  }

  private indexPut(index: Index, key: string, o: KubeObject): void {
    for (const v of index.of(o)) index.by.put(v, key, o);
  }

  private indexRemove(index: Index, key: string, o: KubeObject, kept: string[] = []): void {
    for (const v of index.of(o)) if (!kept.includes(v)) index.by.remove(v, key);
  }
}
