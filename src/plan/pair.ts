// Pairs desired objects with live ones by apiVersion/kind/namespace/name: no live = create, no desired = prune candidate.
import type { KubeObject } from '../model/object.ts';
import { objectKey } from '../model/key.ts';
import { intern } from '../model/intern.ts';

export interface Pair {
  key: string;
  desired?: KubeObject;
  live?: KubeObject;
}

/**
 * objectKey, remembered per object: the sync plans the same (shared, never changed) desired and live objects commit
 * after commit, and 20,000 keys a plan added up.
 */
const keys = new WeakMap<KubeObject, string>();
export function keyOf(o: KubeObject): string {
  let key = keys.get(o);
  if (key === undefined) keys.set(o, (key = intern(objectKey(o))));
  return key;
}

export function pair(desired: KubeObject[], live: KubeObject[]): Pair[] {
  const pairs = new Map<string, Pair>();
  for (const d of desired) {
    const key = keyOf(d);
    pairs.set(key, { key, desired: d });
  }
  for (const l of live) {
    const key = keyOf(l);
    const p = pairs.get(key);
    if (p) p.live = l;
    else pairs.set(key, { key, live: l });
  }
  return [...pairs.values()];
}
