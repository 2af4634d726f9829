// Pods the scheduler has bound but its informer has not yet seen bound (kube-scheduler's "assumed" pods). The
// next decision counts them on their node, so two pods racing for the last room never both get it, even when
// the watch lags behind the writes (a remote store).
import type { KubeObject } from '../model/object.ts';
import { keyOf } from '../model/key.ts';


export class AssumeCache {
  private assumed = new Map<string, KubeObject>();

  /** Records the pod as bound to nodeName from now on. */
  assume(pod: KubeObject, nodeName: string): void {
    this.assumed.set(keyOf(pod), { ...pod, spec: { ...pod.spec, nodeName } });
  }

  /** Forgets the pod: its binding failed, the informer shows it bound, or it is gone. */
  forget(key: string): void {
    this.assumed.delete(key);
  }

  /** The informer's pods with each assumed pod in place of its unbound copy. An entry is dropped once the informer
   * shows the pod bound, or no longer holds it, or holds another pod (another uid) under its name. */
  overlay(pods: KubeObject[]): KubeObject[] {
    if (this.assumed.size === 0) return pods;
    const keep = new Set<string>();
    const out = pods.map((p) => {
      const key = keyOf(p);
      const a = this.assumed.get(key);
      if (!a || a.metadata.uid !== p.metadata.uid || p.spec?.nodeName) return p;
      keep.add(key);
      return a;
    });
    for (const key of [...this.assumed.keys()]) if (!keep.has(key)) this.assumed.delete(key);
    return out;
  }

  get size(): number {
    return this.assumed.size;
  }
}
