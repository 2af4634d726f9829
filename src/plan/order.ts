// Apply order, as Argo CD's gitops-engine does it: sync wave, then kind (dependencies first), then name.
import type { KubeObject } from '../model/object.ts';

const KIND_RANK: Record<string, number> = {
  Namespace: 0,
  ConfigMap: 1,
  Secret: 1,
  Service: 2,
  Pod: 3,
  ReplicaSet: 3,
  Deployment: 3,
};

/** `convergit.io/sync-wave` (or Argo CD's annotation) moves an object earlier or later; default 0. */
export function waveOf(o: KubeObject): number {
  const a = o.metadata.annotations ?? {};
  const w = Number(a['convergit.io/sync-wave'] ?? a['argocd.argoproj.io/sync-wave'] ?? 0);
  return Number.isFinite(w) ? w : 0;
}

export function compareApplyOrder(a: KubeObject, b: KubeObject): number {
  return (
    waveOf(a) - waveOf(b) ||
    (KIND_RANK[a.kind] ?? 4) - (KIND_RANK[b.kind] ?? 4) ||
    (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') ||
    a.metadata.name.localeCompare(b.metadata.name)
  );
}

/** Prunes run in reverse: workloads go before the Services, ConfigMaps and Namespaces they use. */
export const comparePruneOrder = (a: KubeObject, b: KubeObject) => compareApplyOrder(b, a);
