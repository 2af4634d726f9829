// PersistentVolumeClaims and PersistentVolumes: which class a claim asks for, and which volume fits it, as
// Kubernetes' PV controller decides (pkg/controller/volume/persistentvolume: findMatchingVolume). Pure; read by the
// binder, the provisioner, the scheduler's VolumeBinding filter and the node.
import type { KubeObject } from './object.ts';
import { parseQuantity } from './quantity.ts';
import { matchesSelector } from './selector.ts';
import { compareText } from './compare-text.ts';

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
/** Set by the scheduler on a WaitForFirstConsumer claim: the node of its first pod, where it is provisioned. */
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
export const STORAGE_PROVISIONER_ANNOTATION = 'volume.kubernetes.io/storage-provisioner';
export const BETA_STORAGE_PROVISIONER_ANNOTATION = 'volume.beta.kubernetes.io/storage-provisioner';
export const PROVISIONED_BY_ANNOTATION = 'pv.kubernetes.io/provisioned-by';
export const BIND_COMPLETED_ANNOTATION = 'pv.kubernetes.io/bind-completed';
export const BOUND_BY_CONTROLLER_ANNOTATION = 'pv.kubernetes.io/bound-by-controller';

/** The built-in provisioner's name, as k3s's local-path provisioner calls itself. */
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';

/** The default StorageClass: the newest marked default (as Kubernetes since 1.26 picks among several). */
export function defaultClass(classes: readonly KubeObject[]): KubeObject | undefined {
  return classes.filter((c) => c.metadata.annotations?.[DEFAULT_CLASS_ANNOTATION] === 'true')
    .sort((a, b) => compareText(b.metadata.creationTimestamp ?? '', a.metadata.creationTimestamp ?? '') || compareText(a.metadata.name, b.metadata.name))[0];
}

/** The class a claim asks for: its storageClassName; unset, the default class (''; none: no class). */
export function claimClassName(pvc: KubeObject, classes: readonly KubeObject[]): string {
  const given = pvc.spec?.storageClassName;
  if (typeof given === 'string') return given;
  return defaultClass(classes)?.metadata.name ?? '';
}

/** What a claim requests in bytes (resources.requests.storage; 0 when absent). */
export function requestedBytes(pvc: KubeObject): number {
  const q = pvc.spec?.resources?.requests?.storage;
  try { return q === undefined ? 0 : parseQuantity(q); } catch { return 0; }
}

export function capacityBytes(pv: KubeObject): number {
  const q = pv.spec?.capacity?.storage;
  try { return q === undefined ? 0 : parseQuantity(q); } catch { return 0; }
}

/** The claim's reference on a PersistentVolume (spec.claimRef) names this claim (uid too, when it has one). */
export function claimRefMatches(pv: KubeObject, pvc: KubeObject): boolean {
  const ref = pv.spec?.claimRef;
  if (!ref) return false;
  return ref.name === pvc.metadata.name && (ref.namespace ?? 'default') === (pvc.metadata.namespace ?? 'default')
    && (!ref.uid || ref.uid === pvc.metadata.uid);
}

/** Why `pv` cannot hold `pvc` (asking for class `className`), or undefined when it can. */
export function mismatch(pv: KubeObject, pvc: KubeObject, className: string): string | undefined {
  if (pv.metadata.deletionTimestamp) return 'being deleted';
  if (pv.spec?.claimRef && !claimRefMatches(pv, pvc)) return 'bound to another claim';
  if ((pv.spec?.storageClassName ?? '') !== className) return `class "${pv.spec?.storageClassName ?? ''}" is not "${className}"`;
  if ((pv.spec?.volumeMode ?? 'Filesystem') !== (pvc.spec?.volumeMode ?? 'Filesystem')) return `volumeMode ${pv.spec?.volumeMode ?? 'Filesystem'} is not ${pvc.spec?.volumeMode ?? 'Filesystem'}`;
  const modes: string[] = pv.spec?.accessModes ?? [];
  const missing = ((pvc.spec?.accessModes ?? []) as string[]).filter((m) => !modes.includes(m));
  if (missing.length) return `access modes lack ${missing.join(', ')}`;
  if (capacityBytes(pv) < requestedBytes(pvc)) return `capacity ${pv.spec?.capacity?.storage ?? 0} is less than the ${pvc.spec?.resources?.requests?.storage} requested`;
  if (pvc.spec?.selector && !matchesSelector(pvc.spec.selector, pv.metadata.labels)) return 'labels do not match the claim\'s selector';
  return undefined;
}

/**
 * The volume to bind `pvc` to: one already naming it in claimRef (pre-bound) if it fits, else the smallest
 * Available volume that fits (the PV controller's choice), else undefined. A claim naming spec.volumeName takes only that.
 */
export function findBestMatch(pvc: KubeObject, pvs: readonly KubeObject[], className: string): KubeObject | undefined {
  const wanted = pvc.spec?.volumeName;
  const candidates = pvs.filter((pv) => (!wanted || pv.metadata.name === wanted) && !mismatch(pv, pvc, className));
  const prebound = candidates.find((pv) => claimRefMatches(pv, pvc));
  if (prebound) return prebound;
  return candidates.filter((pv) => !pv.spec?.claimRef && (pv.status?.phase ?? 'Available') === 'Available')
    .sort((a, b) => capacityBytes(a) - capacityBytes(b) || compareText(a.metadata.name, b.metadata.name))[0];
}

/** The PersistentVolume's required node affinity allows a node with these labels (no affinity: every node). */
export function volumeNodeAffinityMatches(pv: KubeObject, nodeLabels: Record<string, string> = {}): boolean {
  const terms: any[] = pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? [];
  if (!terms.length) return true;
  return terms.some((t) => (t.matchExpressions ?? []).every((e: any) => {
    const has = Object.prototype.hasOwnProperty.call(nodeLabels, e.key);
    const v = nodeLabels[e.key];
    switch (e.operator) {
      case 'In': return has && (e.values ?? []).includes(v);
      case 'NotIn': return !has || !(e.values ?? []).includes(v);
      case 'Exists': return has;
      case 'DoesNotExist': return !has;
      case 'Gt': return has && Number(v) > Number(e.values?.[0]);
      case 'Lt': return has && Number(v) < Number(e.values?.[0]);
      default: return false;
    }
  }));
}

/** The claims a pod mounts (names). */
export const podClaimNames = (pod: KubeObject): string[] =>
  ((pod.spec?.volumes ?? []) as any[]).map((v) => v.persistentVolumeClaim?.claimName).filter((n): n is string => typeof n === 'string');
