// Taints and tolerations, as Kubernetes matches them (k8s.io/api/core/v1 toleration.go): shared by the scheduler's
// TaintToleration plugin, the DaemonSet controller (which nodes its pods would run on) and taint-based eviction.
import type { KubeObject } from './object.ts';

export type TaintEffect = 'NoSchedule' | 'PreferNoSchedule' | 'NoExecute';

export interface Taint { key: string; value?: string; effect: TaintEffect; timeAdded?: string }

export interface Toleration {
  key?: string;
  operator?: 'Exists' | 'Equal';
  value?: string;
  effect?: TaintEffect | '';
  tolerationSeconds?: number;
}

// The taints the node lifecycle controller and kubectl cordon put on nodes.
export const TAINT_NOT_READY = 'node.kubernetes.io/not-ready';
export const TAINT_UNREACHABLE = 'node.kubernetes.io/unreachable';
export const TAINT_UNSCHEDULABLE = 'node.kubernetes.io/unschedulable';
export const TAINT_DISK_PRESSURE = 'node.kubernetes.io/disk-pressure';
export const TAINT_MEMORY_PRESSURE = 'node.kubernetes.io/memory-pressure';
export const TAINT_PID_PRESSURE = 'node.kubernetes.io/pid-pressure';
export const TAINT_NETWORK_UNAVAILABLE = 'node.kubernetes.io/network-unavailable';

export const taintsOf = (node: KubeObject): Taint[] => node.spec?.taints ?? [];
export const tolerationsOf = (pod: KubeObject): Toleration[] => pod.spec?.tolerations ?? [];

/**
 * Whether one toleration tolerates one taint: same effect (an empty effect matches all), same key (an empty key
 * with Exists matches every key), and Exists, or Equal with the same value.
 */
export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.key && t.key !== taint.key) return false;
  if (!t.key && t.operator !== 'Exists') return false;
  if (t.operator === 'Exists') return true;
  return (t.value ?? '') === (taint.value ?? '');
}

export const isTolerated = (tolerations: Toleration[], taint: Taint) => tolerations.some((t) => tolerates(t, taint));

/** The first taint (of those `which` keeps) that no toleration tolerates. */
export function untoleratedTaint(taints: Taint[], tolerations: Toleration[], which: (t: Taint) => boolean): Taint | undefined {
  return taints.find((taint) => which(taint) && !isTolerated(tolerations, taint));
}

/** The taints a pod may not be scheduled over: NoSchedule and NoExecute. */
export const blocksScheduling = (t: Taint) => t.effect === 'NoSchedule' || t.effect === 'NoExecute';

/** `key=value:Effect` (value optional), as kubelet's --register-with-taints and kubectl taint spell a taint. */
export function parseTaint(text: string): Taint {
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(text.trim());
  if (!m) throw new Error(`"${text}" is not a taint such as dedicated=gpu:NoSchedule`);
  return { key: m[1], ...(m[2] !== undefined && m[2] !== '' && { value: m[2] }), effect: m[3] as TaintEffect };
}
