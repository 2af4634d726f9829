// What a DaemonSet's pods look like and where they belong, as kube-controller-manager's daemon controller decides
// (pure): the default tolerations every daemon pod gets, whether a node should run the pod (nodeSelector, required
// node affinity, taints), the node a pod is pinned to, and the pod built for one node.
import { podMatchesNode } from '../model/node-affinity.ts';
import type { KubeObject, ObjectMeta } from '../model/object.ts';
import { ownerRefTo } from '../model/pod.ts';
import {
  blocksScheduling, TAINT_DISK_PRESSURE, TAINT_MEMORY_PRESSURE, TAINT_NETWORK_UNAVAILABLE, TAINT_NOT_READY, TAINT_PID_PRESSURE,
  TAINT_UNREACHABLE, TAINT_UNSCHEDULABLE, taintsOf, untoleratedTaint, type Toleration,
} from '../model/taints.ts';

export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';
export const POD_TEMPLATE_GENERATION_LABEL = 'pod-template-generation';

/**
 * The tolerations the daemon controller adds to every daemon pod, so node problems never evict it and a cordoned
 * or pressured node still runs it: not-ready and unreachable (NoExecute, forever), the pressure conditions and
 * unschedulable (NoSchedule), and network-unavailable for host-network pods.
 */
export function daemonTolerations(spec: { tolerations?: Toleration[]; hostNetwork?: boolean }): Toleration[] {
  const add: Toleration[] = [
    { key: TAINT_NOT_READY, operator: 'Exists', effect: 'NoExecute' },
    { key: TAINT_UNREACHABLE, operator: 'Exists', effect: 'NoExecute' },
    { key: TAINT_DISK_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_MEMORY_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_PID_PRESSURE, operator: 'Exists', effect: 'NoSchedule' },
    { key: TAINT_UNSCHEDULABLE, operator: 'Exists', effect: 'NoSchedule' },
    ...(spec.hostNetwork ? [{ key: TAINT_NETWORK_UNAVAILABLE, operator: 'Exists' as const, effect: 'NoSchedule' as const }] : []),
  ];
  // As AddOrUpdateTolerationInPodSpec: one of the same key, operator and effect is replaced, not doubled.
  const same = (a: Toleration, b: Toleration) => a.key === b.key && (a.operator ?? 'Equal') === (b.operator ?? 'Equal') && (a.effect ?? '') === (b.effect ?? '');
  const own = (spec.tolerations ?? []).filter((t) => !add.some((d) => same(d, t)));
  return [...own, ...add];
}

export interface NodeVerdict {
  /** A daemon pod should be created here if missing. */
  shouldRun: boolean;
  /** A daemon pod already here may stay (false: an untolerated NoExecute taint, or the node no longer matches). */
  shouldContinueRunning: boolean;
}

/** Kubernetes' NodeShouldRunDaemonPod: the template's nodeName, node selector and affinity, then taints. */
export function nodeShouldRunDaemonPod(ds: KubeObject, node: KubeObject): NodeVerdict {
  const spec = ds.spec?.template?.spec ?? {};
  const no = { shouldRun: false, shouldContinueRunning: false };
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return no;
  if (!podMatchesNode({ apiVersion: 'v1', kind: 'Pod', metadata: { name: '' }, spec }, node)) return no;
  const taint = untoleratedTaint(taintsOf(node), daemonTolerations(spec), blocksScheduling);
  if (!taint) return { shouldRun: true, shouldContinueRunning: true };
  return { shouldRun: false, shouldContinueRunning: taint.effect !== 'NoExecute' };
}

/** The node a daemon pod runs on, or is pinned to by its matchFields metadata.name affinity while unscheduled. */
export function targetNode(pod: KubeObject): string | undefined {
  if (pod.spec?.nodeName) return pod.spec.nodeName;
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  for (const t of terms) {
    for (const f of t.matchFields ?? []) if (f.key === 'metadata.name' && f.operator === 'In' && f.values?.length === 1) return f.values[0];
  }
  return undefined;
}

/**
 * The daemon pod for `nodeName`: the template with the revision hash and generation labels, the daemon tolerations,
 * and its required node affinity replaced by one term matching the node's name, so the scheduler binds it there
 * (as Kubernetes does since 1.12, rather than setting nodeName itself).
 */
export function daemonPod(ds: KubeObject, nodeName: string, hash: string, name: string): KubeObject {
  const template = ds.spec?.template ?? {};
  const metadata: ObjectMeta = {
    name, generateName: `${ds.metadata.name}-`, namespace: ds.metadata.namespace, ownerReferences: [ownerRefTo(ds)],
    labels: { ...template.metadata?.labels, [CONTROLLER_REVISION_HASH_LABEL]: hash, [POD_TEMPLATE_GENERATION_LABEL]: String(ds.metadata.generation ?? 1) },
  };
  if (template.metadata?.annotations) metadata.annotations = { ...template.metadata.annotations };
  const spec = structuredClone(template.spec ?? {});
  spec.tolerations = daemonTolerations(spec);
  spec.affinity = {
    ...spec.affinity,
    nodeAffinity: {
      ...spec.affinity?.nodeAffinity,
      requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }] },
    },
  };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}
