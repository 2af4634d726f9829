// Pod affinity terms as kube-scheduler reads them: which pods a term selects (its label selector, its
// matchLabelKeys, its namespaces) and the topology domain ("zone=a") a node puts a pod in.
import type { KubeObject } from '../../model/object.ts';
import { matchesSelector, type LabelSelector } from '../../model/selector.ts';

export interface PodAffinityTerm {
  labelSelector?: LabelSelector | null;
  namespaces?: string[];
  namespaceSelector?: LabelSelector | null;
  topologyKey: string;
  matchLabelKeys?: string[];
  mismatchLabelKeys?: string[];
}
export interface WeightedPodAffinityTerm { weight: number; podAffinityTerm: PodAffinityTerm }

/** The required and preferred terms of a pod's podAffinity or podAntiAffinity. */
export function termsOf(pod: KubeObject, which: 'podAffinity' | 'podAntiAffinity'): { required: PodAffinityTerm[]; preferred: WeightedPodAffinityTerm[] } {
  const a = pod.spec?.affinity?.[which];
  return { required: a?.requiredDuringSchedulingIgnoredDuringExecution ?? [], preferred: a?.preferredDuringSchedulingIgnoredDuringExecution ?? [] };
}

/**
 * Whether `term`, written on `owner`, selects `target`. No selector selects nothing; matchLabelKeys and
 * mismatchLabelKeys add the owner's values of those labels. Namespaces: the listed ones, or all with an empty
 * namespaceSelector, or the owner's own. A non-empty namespaceSelector is matched against each namespace's
 * `kubernetes.io/metadata.name` label, the only namespace label the scheduler knows here.
 */
export function termSelects(term: PodAffinityTerm, owner: KubeObject, target: KubeObject): boolean {
  if (!term.labelSelector) return false;
  const ns = target.metadata.namespace ?? 'default';
  const own = owner.metadata.namespace ?? 'default';
  const nsSel = term.namespaceSelector;
  const inNamespace = (term.namespaces ?? []).includes(ns)
    || (nsSel ? matchesSelector(nsSel, { 'kubernetes.io/metadata.name': ns }) : !(term.namespaces ?? []).length && ns === own);
  if (!inNamespace) return false;
  const labels = target.metadata.labels ?? {};
  const ownerLabels = owner.metadata.labels ?? {};
  const extra: NonNullable<LabelSelector['matchExpressions']> = [];
  for (const k of term.matchLabelKeys ?? []) if (k in ownerLabels) extra.push({ key: k, operator: 'In', values: [ownerLabels[k]] });
  for (const k of term.mismatchLabelKeys ?? []) if (k in ownerLabels) extra.push({ key: k, operator: 'NotIn', values: [ownerLabels[k]] });
  const sel = { ...term.labelSelector, matchExpressions: [...(term.labelSelector.matchExpressions ?? []), ...extra] };
  return matchesSelector(sel, labels);
}

/** `key=value` of the node's topology domain for `key`, or undefined when the node has no such label. */
export function domainOf(node: KubeObject, key: string): string | undefined {
  const labels = node.metadata.labels ?? {};
  return Object.prototype.hasOwnProperty.call(labels, key) ? `${key}=${labels[key]}` : undefined;
}
