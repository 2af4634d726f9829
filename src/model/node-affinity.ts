// Node selection by a pod: spec.nodeSelector and spec.affinity.nodeAffinity, as Kubernetes' component-helpers
// match them. Shared by the scheduler's NodeAffinity plugin and the DaemonSet controller.
import type { KubeObject } from './object.ts';

export interface NodeSelectorRequirement { key: string; operator: string; values?: string[] }
export interface NodeSelectorTerm { matchExpressions?: NodeSelectorRequirement[]; matchFields?: NodeSelectorRequirement[] }
export interface PreferredSchedulingTerm { weight: number; preference: NodeSelectorTerm }

const has = (o: Record<string, string>, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** One requirement against a label (or field) map: In, NotIn, Exists, DoesNotExist, Gt, Lt (integers). */
function requirementMatches(r: NodeSelectorRequirement, labels: Record<string, string>): boolean {
  const present = has(labels, r.key);
  const v = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In': return present && values.includes(v);
    case 'NotIn': return !present || !values.includes(v);
    case 'Exists': return present;
    case 'DoesNotExist': return !present;
    case 'Gt':
    case 'Lt': {
      if (!present || values.length !== 1 || !/^-?\d+$/.test(v) || !/^-?\d+$/.test(values[0])) return false;
      return r.operator === 'Gt' ? Number(v) > Number(values[0]) : Number(v) < Number(values[0]);
    }
    default: return false;
  }
}

/** A term matches when all its requirements do; a term with none matches nothing, as in Kubernetes. */
export function termMatches(term: NodeSelectorTerm, node: KubeObject): boolean {
  const exprs = term.matchExpressions ?? [], fields = term.matchFields ?? [];
  if (!exprs.length && !fields.length) return false;
  const labels = node.metadata.labels ?? {};
  // metadata.name is the one field a term may name.
  const nodeFields = { 'metadata.name': node.metadata.name };
  return exprs.every((r) => requirementMatches(r, labels)) && fields.every((r) => requirementMatches(r, nodeFields));
}

/** Required node affinity: the terms are ORed; absent means any node. */
export function requiredAffinityMatches(pod: KubeObject, node: KubeObject): boolean {
  const terms: NodeSelectorTerm[] | undefined = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  if (!terms) return true;
  return terms.some((t) => termMatches(t, node));
}

/** nodeSelector: every label must be on the node with that value. */
export function nodeSelectorMatches(pod: KubeObject, node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  return Object.entries((pod.spec?.nodeSelector ?? {}) as Record<string, string>).every(([k, v]) => has(labels, k) && labels[k] === v);
}

/** What the NodeAffinity filter checks: the nodeSelector and the required node affinity both. */
export const podMatchesNode = (pod: KubeObject, node: KubeObject) => nodeSelectorMatches(pod, node) && requiredAffinityMatches(pod, node);

/** The summed weights of the preferred terms the node matches. */
export function preferredAffinityScore(pod: KubeObject, node: KubeObject): number {
  const terms: PreferredSchedulingTerm[] = pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
  return terms.reduce((sum, t) => sum + (t.weight && termMatches(t.preference ?? {}, node) ? t.weight : 0), 0);
}
