// Apply order, as Argo CD's gitops-engine does it: sync wave, then kind (dependencies first), then name.
import type { KubeObject } from '../model/object.ts';
import { compareText } from '../model/compare-text.ts';

/**
 * Dependencies first, in gitops-engine's (and Helm's) order: namespaces and policies, identities and
 * configuration, storage, CRDs, RBAC, Services, workloads, then routing. Other kinds (custom resources) come
 * last, after the CustomResourceDefinitions that define them; Pods, ReplicaSets and Deployments share a rank.
 */
const ORDER = [
  'Namespace', 'NetworkPolicy', 'ResourceQuota', 'LimitRange', 'PodDisruptionBudget', 'ServiceAccount', 'Secret', 'ConfigMap',
  'StorageClass', 'PersistentVolume', 'PersistentVolumeClaim', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding',
  'Role', 'RoleBinding', 'Service', 'DaemonSet', 'Pod', 'ReplicationController', 'ReplicaSet', 'Deployment',
  'HorizontalPodAutoscaler', 'StatefulSet', 'Job', 'CronJob', 'IngressClass', 'Ingress', 'APIService',
];
const SAME_RANK: Record<string, string> = { Secret: 'ConfigMap', ReplicaSet: 'Pod', Deployment: 'Pod' };
const KIND_RANK: Record<string, number> = Object.fromEntries(ORDER.map((k) => [k, ORDER.indexOf(SAME_RANK[k] ?? k)]));
const OTHER = ORDER.length;

/** `convergit.io/sync-wave` (or Argo CD's annotation) moves an object earlier or later; default 0. */
export function waveOf(o: KubeObject): number {
  const a = o.metadata.annotations ?? {};
  const w = Number(a['convergit.io/sync-wave'] ?? a['argocd.argoproj.io/sync-wave'] ?? 0);
  return Number.isFinite(w) ? w : 0;
}

export function compareApplyOrder(a: KubeObject, b: KubeObject): number {
  return (
    waveOf(a) - waveOf(b) ||
    (KIND_RANK[a.kind] ?? OTHER) - (KIND_RANK[b.kind] ?? OTHER) ||
    compareText(a.metadata.namespace ?? '', b.metadata.namespace ?? '') ||
    compareText(a.metadata.name, b.metadata.name)
  );
}

/** Prunes run in reverse: workloads go before the Services, ConfigMaps and Namespaces they use. */
export const comparePruneOrder = (a: KubeObject, b: KubeObject) => compareApplyOrder(b, a);
