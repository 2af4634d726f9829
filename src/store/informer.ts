// A cache of one kind kept current by a watch, with handlers for changes: what controllers, the scheduler and
// node executors read from, as Kubernetes components read from informers instead of asking the API server.
import type { KubeObject } from '../model/object.ts';
import { isNamespaced } from '../model/kinds.ts';
import type { ListOptions, Store, WatchEvent, WatchOptions } from './store.ts';
import { keyOf } from '../model/key.ts';

export interface InformerHandlers {
  add?(obj: KubeObject): void;
  update?(old: KubeObject, obj: KubeObject): void;
  delete?(obj: KubeObject): void;
}

const rvOf = (o: KubeObject) => Number(o.metadata.resourceVersion ?? 0);

export class Informer {
  private cache = new Map<string, KubeObject>();
  private handlers: InformerHandlers[] = [];
  private stopWatch?: () => void;
  private synced = false;

  /** `match` narrows the cache further (e.g. a node's own pods): objects entering or leaving it are added or deleted. */
  constructor(private store: Store, readonly kind: string, private opts: ListOptions & Pick<WatchOptions, 'match'> = {}) {}

  /** Handlers only enqueue work; they must not write to the store synchronously in bulk. */
  on(h: InformerHandlers): this {
    this.handlers.push(h);
    return this;
  }

  /** Watches first, then lists, so that no change between the two is missed; versions settle any overlap. */
  async start(): Promise<void> {
    this.stopWatch = await this.store.watch({ ...this.opts, kind: this.kind }, (e) => this.onEvent(e));
    const { match, ...listOpts } = this.opts;
    for (const o of await this.store.list(this.kind, listOpts)) {
      if (match && !match(o)) continue;
      const cur = this.cache.get(keyOf(o));
      if (cur && rvOf(cur) >= rvOf(o)) continue;
      this.cache.set(keyOf(o), o);
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

  /** Cached objects, of one namespace when given; do not mutate them. */
  list(namespace?: string): KubeObject[] {
    const all = [...this.cache.values()];
    return namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? '') === namespace);
  }

  private onEvent(e: WatchEvent): void {
    const key = keyOf(e.object);
    const cur = this.cache.get(key);
    if (e.type === 'DELETED') {
      if (!cur) return;
      this.cache.delete(key);
      for (const h of this.handlers) h.delete?.(e.object);
      return;
    }
    if (cur && rvOf(cur) >= rvOf(e.object)) return;
    this.cache.set(key, e.object);
    for (const h of this.handlers) (cur ? h.update?.(cur, e.object) : h.add?.(e.object));
  }
}
