// Health in Argo CD's vocabulary: the status codes, one object's verdict, and the live snapshot checks look at.
import type { KubeObject } from '../model/object.ts';
import { controllerOf } from '../model/pod.ts';

export type HealthStatus = 'Healthy' | 'Progressing' | 'Degraded' | 'Suspended' | 'Missing' | 'Unknown';

export interface ObjectHealth {
  status: HealthStatus;
  /** Why, for people: names the object and what it waits on. */
  message: string;
  /** What it waits on, one level down, as full sentences (the pod a rollout waits on, with the pod's own reason). */
  causes?: string[];
}

/** A snapshot of live objects, so a check can look past its object (a Deployment at its ReplicaSets and Pods). */
export interface HealthContext {
  /** Objects of `kind`, in `namespace` when given (all namespaces otherwise). */
  list(kind: string, namespace?: string): KubeObject[];
  /**
   * Objects of `kind` whose controller reference names this uid ('' : references without one), so a check finds
   * what a controller owns without scanning every pod for every owner. Optional: `list` is enough.
   */
  controlledBy?(kind: string, uid: string): readonly KubeObject[];
}

/** One kind's health check: pure, reads only the object and the snapshot. */
export type HealthCheck = (obj: KubeObject, ctx: HealthContext) => ObjectHealth;

/** A HealthContext over a flat list of live objects, indexed by kind. */
export function healthContext(objects: readonly KubeObject[]): HealthContext {
  const byKind = new Map<string, KubeObject[]>();
  for (const o of objects) {
    const list = byKind.get(o.kind);
    if (list) list.push(o);
    else byKind.set(o.kind, [o]);
  }
  return kindsContext((kind) => byKind.get(kind) ?? []);
}

/**
 * A HealthContext over the objects of each kind as `ofKind` gives them, asked for only when a check reads that kind
 * (an assessment of a few changed objects need not list every kind of the store). `ofKind` may answer undefined
 * (not at hand yet): the check then sees none, and nothing is remembered of that kind. `indexed`: the objects of a
 * kind by controller uid from an index kept elsewhere (undefined: none for that kind), else one is built here.
 */
export function kindsContext(ofKind: (kind: string) => readonly KubeObject[] | undefined,
  indexed?: (kind: string, uid: string) => readonly KubeObject[] | undefined): HealthContext {
  const byController = new Map<string, Map<string, KubeObject[]>>(); // kind → controller uid → objects, built on first use
  return {
    list(kind, namespace) {
      const all = (ofKind(kind) ?? []) as KubeObject[];
      return namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? '') === namespace);
    },
    controlledBy(kind, uid) {
      const found = indexed?.(kind, uid);
      if (found) return found;
      let index = byController.get(kind);
      if (!index) {
        const all = ofKind(kind);
        if (!all) return [];
        byController.set(kind, index = new Map());
        for (const o of all) {
          const ref = controllerOf(o);
          if (!ref) continue;
          const at = index.get(ref.uid ?? '');
          if (at) at.push(o);
          else index.set(ref.uid ?? '', [o]);
        }
      }
      return index.get(uid) ?? [];
    },
  };
}
