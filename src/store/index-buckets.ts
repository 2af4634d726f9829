// An index's entries by value: under each value, items by key, in the order their keys came. Most values are on one
// object (an owner's uid, an app's label, a pod-template-hash), so a lone entry is held on its own until a second
// comes: a Map or Set of one cost ~150–170 bytes (the informers' indexes held 3.5 MB of them at 10,000 objects, the
// store's label index ~2 MB).
import { intern } from '../model/intern.ts';

type Bucket<T> = Map<string, T> | { key: string; item: T };

export class IndexBuckets<T> {
  private readonly by = new Map<string, Bucket<T>>();

  /** `item` under `value` at `key`; a key already there keeps its place. */
  put(value: string, key: string, item: T): void {
    const at = this.by.get(value);
    // The value and key kept are interned (intern.ts): they are often ropes, one per caller.
    if (!at) this.by.set(intern(value), { key: intern(key), item });
    else if (at instanceof Map) at.set(at.has(key) ? key : intern(key), item);
    else if (at.key === key) at.item = item;
    else this.by.set(value, new Map([[at.key, at.item], [intern(key), item]]));
  }

  remove(value: string, key: string): void {
    const at = this.by.get(value);
    if (at instanceof Map) {
      at.delete(key);
      if (at.size === 0) this.by.delete(value);
    } else if (at?.key === key) this.by.delete(value);
  }

  /** How many items are under `value`. */
  count(value: string): number {
    const at = this.by.get(value);
    return !at ? 0 : at instanceof Map ? at.size : 1;
  }

  /** The items under `value`, in the order their keys came: the index's own, read before it changes again. */
  items(value: string): Iterable<T> {
    const at = this.by.get(value);
    return !at ? [] : at instanceof Map ? at.values() : [at.item];
  }
}
