// Expectations, as kube-controller-manager keeps them: what a controller has just asked the store to create or
// delete, and not yet seen in its cache. While some are outstanding the cache is known to be behind, so the
// controller must not count pods again, or it would create the same replicas twice.
// Tracked by pod name rather than by count, so observing the same pod twice (marked, then removed) is harmless.

import type { KubeObject } from '../model/object.ts';
import { controllerOf } from '../model/pod.ts';
import type { InformerHandlers } from '../store/informer.ts';

interface Record {
  creates: Set<string>;
  deletes: Set<string>;
  at: number;
}

export class Expectations {
  private readonly records = new Map<string, Record>();

  /** timeoutMs: after this long without being met, expectations are given up on (a lost event must not wedge a controller). */
  constructor(private readonly timeoutMs = 300_000, private readonly now: () => number = Date.now) {}

  /** Before creating pods: the controller (key) expects to see these names appear. Replaces earlier expectations. */
  expectCreations(key: string, names: string[]): void {
    this.records.set(key, { creates: new Set(names), deletes: new Set(), at: this.now() });
  }

  /** Before deleting pods: the controller (key) expects to see these names go (or be marked for deletion). */
  expectDeletions(key: string, names: string[]): void {
    this.records.set(key, { creates: new Set(), deletes: new Set(names), at: this.now() });
  }

  /** The cache showed the pod (or its create failed, so it never will). */
  creationObserved(key: string, name: string): void {
    this.records.get(key)?.creates.delete(name);
  }

  /** The cache showed the pod marked or gone (or its delete failed). */
  deletionObserved(key: string, name: string): void {
    this.records.get(key)?.deletes.delete(name);
  }

  /** True when the controller may count pods from its cache again: nothing outstanding, or waited too long. */
  satisfied(key: string): boolean {
    const r = this.records.get(key);
    if (!r) return true;
    if (r.creates.size === 0 && r.deletes.size === 0) return true;
    return this.now() - r.at >= this.timeoutMs;
  }

  /** Outstanding creations and deletions, for messages and tests. */
  pending(key: string): { creates: number; deletes: number } {
    const r = this.records.get(key);
    return { creates: r?.creates.size ?? 0, deletes: r?.deletes.size ?? 0 };
  }

  /** The controller's object is gone: forget about it. */
  delete(key: string): void {
    this.records.delete(key);
  }
}

/**
 * The Pod informer handlers of a controller that owns pods by controller reference (ReplicaSet, StatefulSet):
 * a pod seen, changed or gone meets its owner's expectations and wakes it (the old owner too when it was released
 * or taken over); an orphan wakes the controllers that may adopt it.
 */
export function ownedPodHandlers(
  expectations: Expectations,
  ownerKey: (pod: KubeObject) => string | undefined,
  enqueue: (key: string) => void,
  enqueueAdopters: (pod: KubeObject) => void,
): InformerHandlers {
  return {
    add(pod) {
      const key = ownerKey(pod);
      if (!key) return void (!controllerOf(pod) && enqueueAdopters(pod));
      if (pod.metadata.deletionTimestamp) expectations.deletionObserved(key, pod.metadata.name);
      else expectations.creationObserved(key, pod.metadata.name);
      enqueue(key);
    },
    update(old, pod) {
      const key = ownerKey(pod);
      if (key) {
        expectations.creationObserved(key, pod.metadata.name);
        if (pod.metadata.deletionTimestamp) expectations.deletionObserved(key, pod.metadata.name);
        enqueue(key);
      }
      const oldKey = ownerKey(old);
      if (oldKey && oldKey !== key) enqueue(oldKey); // released or taken over: the old owner counts again
      if (!controllerOf(pod)) enqueueAdopters(pod);
    },
    delete(pod) {
      const key = ownerKey(pod);
      if (!key) return;
      expectations.deletionObserved(key, pod.metadata.name);
      enqueue(key);
    },
  };
}
