// Health in Argo CD's vocabulary: the status codes, one object's verdict, and the live snapshot checks look at.
import type { KubeObject } from '../model/object.ts';

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
  return {
    list(kind, namespace) {
      const all = byKind.get(kind) ?? [];
      return namespace === undefined ? all : all.filter((o) => (o.metadata.namespace ?? '') === namespace);
    },
  };
}
