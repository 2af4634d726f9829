// Pairs desired objects with live ones by apiVersion/kind/namespace/name: no live = create, no desired = prune candidate.
import type { KubeObject } from '../model/object.ts';
import { objectKey } from '../model/key.ts';

export interface Pair {
  key: string;
  desired?: KubeObject;
  live?: KubeObject;
}

export function pair(desired: KubeObject[], live: KubeObject[]): Pair[] {
  const pairs = new Map<string, Pair>();
  for (const d of desired) pairs.set(objectKey(d), { key: objectKey(d), desired: d });
  for (const l of live) {
    const key = objectKey(l);
    const p = pairs.get(key);
    if (p) p.live = l;
    else pairs.set(key, { key, live: l });
  }
  return [...pairs.values()];
}
