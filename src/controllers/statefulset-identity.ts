// A StatefulSet pod's identity, as kube-controller-manager gives it: the name `<set>-<ordinal>`, hostname and
// subdomain for its DNS name through the headless Service, its labels, and one PersistentVolumeClaim per
// volumeClaimTemplate, `<template>-<set>-<ordinal>`, mounted under the template's name.
import type { KubeObject, ObjectMeta } from '../model/object.ts';
import { ownerRefTo } from '../model/pod.ts';
import { compareText } from '../model/compare-text.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const REVISION_LABEL = 'controller-revision-hash';

const ORDINAL = /^(.*)-(\d+)$/;

/** The set a pod's name says it belongs to, and its ordinal (-1 when the name is not `<set>-<n>`). */
export function parentAndOrdinal(pod: KubeObject): { parent: string; ordinal: number } {
  const m = ORDINAL.exec(pod.metadata.name);
  if (!m) return { parent: '', ordinal: -1 };
  const n = Number(m[2]);
  return Number.isSafeInteger(n) && n <= 2 ** 31 - 1 ? { parent: m[1], ordinal: n } : { parent: '', ordinal: -1 };
}

export const ordinalOf = (pod: KubeObject) => parentAndOrdinal(pod).ordinal;
export const isMemberOf = (set: KubeObject, pod: KubeObject) => parentAndOrdinal(pod).parent === set.metadata.name;
export const podName = (set: KubeObject, ordinal: number) => `${set.metadata.name}-${ordinal}`;
export const claimName = (set: KubeObject, template: string, ordinal: number) => `${template}-${set.metadata.name}-${ordinal}`;

/** `spec.ordinals.start`, default 0. */
export const startOrdinal = (set: KubeObject): number => set.spec?.ordinals?.start ?? 0;
export const replicasOf = (set: KubeObject): number => set.spec?.replicas ?? 1;

/** The ordinal lies in [start, start + replicas): a replica; outside, it is condemned (scaled down). */
export function inOrdinalRange(set: KubeObject, ordinal: number): boolean {
  const start = startOrdinal(set);
  return ordinal >= start && ordinal < start + replicasOf(set);
}

/** The claim templates, as written (name and spec). */
export const claimTemplates = (set: KubeObject): KubeObject[] => set.spec?.volumeClaimTemplates ?? [];

/**
 * The pod of `ordinal` built from `template` (the set's, or an earlier revision's): template labels and
 * annotations, the identity labels, hostname and subdomain, each claim template as a persistentVolumeClaim
 * volume (replacing a template volume of the same name), and the set as controller owner.
 */
export function statefulSetPod(set: KubeObject, template: Record<string, any>, ordinal: number, revision: string): KubeObject {
  const name = podName(set, ordinal);
  const metadata: ObjectMeta = {
    name,
    namespace: set.metadata.namespace,
    labels: { ...template.metadata?.labels, [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinal), [REVISION_LABEL]: revision },
    ownerReferences: [ownerRefTo(set)],
  };
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
  const spec = structuredClone(template.spec ?? {});
  spec.hostname = name;
  if (set.spec?.serviceName) spec.subdomain = set.spec.serviceName;
  const claims = claimTemplates(set);
  if (claims.length) {
    const ours = new Set(claims.map((c) => c.metadata?.name));
    spec.volumes = [
      ...claims.map((c) => ({ name: c.metadata.name, persistentVolumeClaim: { claimName: claimName(set, c.metadata.name, ordinal) } })),
      ...(spec.volumes ?? []).filter((v: { name: string }) => !ours.has(v.name)),
    ];
  }
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

/**
 * The claim of `ordinal` for one template: the template's labels and annotations plus the set's matchLabels
 * (as upstream), its spec with the default StorageClass filled in where none is named (the DefaultStorageClass
 * admission plugin's job on a cluster, done here since claims never pass an API server).
 */
export function statefulSetClaim(set: KubeObject, template: KubeObject, ordinal: number, defaultClass?: string): KubeObject {
  const metadata: ObjectMeta = {
    name: claimName(set, template.metadata.name, ordinal),
    namespace: set.metadata.namespace,
    labels: { ...template.metadata?.labels, ...set.spec?.selector?.matchLabels },
  };
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
  const spec = structuredClone(template.spec ?? {});
  if (spec.storageClassName === undefined && defaultClass) spec.storageClassName = defaultClass;
  spec.volumeMode ??= 'Filesystem';
  return { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata, spec };
}

const DEFAULT_CLASS = 'storageclass.kubernetes.io/is-default-class';

/** The default StorageClass: annotated as such; with several, the newest (as Kubernetes since 1.28), then by name. */
export function defaultStorageClass(classes: readonly KubeObject[]): string | undefined {
  const defaults = classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS] === 'true' || c.metadata.annotations?.['storageclass.beta.kubernetes.io/is-default-class'] === 'true');
  defaults.sort((a, b) => compareText(b.metadata.creationTimestamp ?? '', a.metadata.creationTimestamp ?? '') || compareText(a.metadata.name, b.metadata.name));
  return defaults[0]?.metadata.name;
}
