// A Job's podFailurePolicy and successPolicy, matched as kube-controller-manager matches them: the first rule
// that matches a failed pod decides (FailJob, Ignore, Count); success rules name indexes and/or a count.
import type { KubeObject } from '../model/object.ts';
import { hasIndex, parseIndexes, totalOf, type Interval } from './job-indexes.ts';

export type FailureAction = 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';

export interface FailureMatch {
  /** The Job's failure message, when a FailJob rule matched. */
  failJobMessage?: string;
  /** Whether the failure counts towards backoffLimit (not when an Ignore rule matched). */
  countFailed: boolean;
  action?: FailureAction;
}

interface ExitCodesRule { containerName?: string; operator: 'In' | 'NotIn'; values: number[] }
interface Rule { action: FailureAction; onExitCodes?: ExitCodesRule; onPodConditions?: { type: string; status?: string }[] }

export function matchPodFailurePolicy(policy: { rules?: Rule[] } | undefined, pod: KubeObject): FailureMatch {
  if (!policy) return { countFailed: true };
  const ns = pod.metadata.namespace ?? 'default';
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.onExitCodes) {
      const c = matchingContainer(pod, rule.onExitCodes);
      if (!c) continue;
      const hit = decide(rule.action, () => `Container ${c.name} for pod ${ns}/${pod.metadata.name} failed with exit code ${c.state.terminated.exitCode} matching ${rule.action} rule at index ${index}`);
      if (hit) return hit;
    } else if (rule.onPodConditions) {
      const cond = (pod.status?.conditions ?? []).find((pc: { type: string; status: string }) =>
        rule.onPodConditions!.some((p) => p.type === pc.type && (p.status ?? 'True') === pc.status));
      if (!cond) continue;
      const hit = decide(rule.action, () => `Pod ${ns}/${pod.metadata.name} has condition ${cond.type} matching ${rule.action} rule at index ${index}`);
      if (hit) return hit;
    }
  }
  return { countFailed: true };
}

/** FailIndex needs backoffLimitPerIndex, which convergit does not run: such a rule is skipped, as with its feature off. */
function decide(action: FailureAction, message: () => string): FailureMatch | undefined {
  switch (action) {
    case 'Ignore': return { countFailed: false, action };
    case 'Count': return { countFailed: true, action };
    case 'FailJob': return { failJobMessage: message(), countFailed: true, action };
    default: return undefined;
  }
}

/** The first terminated container (then init container) with a non-zero exit code the rule matches. */
function matchingContainer(pod: KubeObject, req: ExitCodesRule): any {
  const lists = [pod.status?.containerStatuses ?? [], pod.status?.initContainerStatuses ?? []];
  for (const list of lists) {
    for (const c of list) {
      const code = c.state?.terminated?.exitCode;
      if (code === undefined || code === 0) continue;
      if (req.containerName && req.containerName !== c.name) continue;
      const listed = req.values.includes(code);
      if (req.operator === 'In' ? listed : req.operator === 'NotIn' ? !listed : false) return c;
    }
  }
  return undefined;
}

interface SuccessRule { succeededIndexes?: string; succeededCount?: number }

/** The SuccessCriteriaMet message when a rule of the successPolicy is met by the succeeded indexes. */
export function matchSuccessPolicy(policy: { rules?: SuccessRule[] } | undefined, completions: number, succeeded: readonly Interval[]): string | undefined {
  if (!policy || succeeded.length === 0) return undefined;
  for (const [index, rule] of (policy.rules ?? []).entries()) {
    if (rule.succeededIndexes !== undefined) {
      const required = parseIndexes(rule.succeededIndexes, completions);
      if (!required.length) continue;
      let matched = 0;
      for (const iv of required) for (let i = iv.first; i <= iv.last; i++) if (hasIndex(succeeded, i)) matched++;
      const met = rule.succeededCount === undefined ? matched === totalOf(required) : matched >= rule.succeededCount;
      if (met) return `Matched rules at index ${index}`;
    } else if (rule.succeededCount !== undefined && totalOf(succeeded) >= rule.succeededCount) {
      return `Matched rules at index ${index}`;
    }
  }
  return undefined;
}

