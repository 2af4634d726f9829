// A Job's spec as the Job controller reads it: the API server's defaults, and the checks with which the API server
// would have refused it. Pure, so that `plan` reads Jobs as the controller does.
import type { KubeObject } from '../model/object.ts';
import type { Condition } from '../model/conditions.ts';

type Obj = Record<string, any>;

/** Complete or Failed is True: the Job is over and the controller never touches it again. */
export function isJobFinished(job: KubeObject): boolean {
  return (job.status?.conditions ?? []).some((c: Condition) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
}

/** The spec with the API server's defaults: completions and parallelism 1 when both are unset, backoffLimit 6. */
export function jobParams(spec: Obj = {}) {
  const bothUnset = spec.completions == null && spec.parallelism == null;
  return {
    completions: (bothUnset ? 1 : spec.completions ?? undefined) as number | undefined,
    parallelism: (bothUnset ? 1 : spec.parallelism ?? 1) as number,
    backoffLimit: (spec.backoffLimit ?? 6) as number,
    indexed: spec.completionMode === 'Indexed',
    suspend: spec.suspend === true,
    activeDeadlineSeconds: spec.activeDeadlineSeconds as number | undefined,
    podFailurePolicy: spec.podFailurePolicy,
    successPolicy: spec.successPolicy,
    /** Terminating pods are waited for before replacement with a podFailurePolicy or podReplacementPolicy Failed. */
    onlyReplaceFailed: spec.podReplacementPolicy === 'Failed' || !!spec.podFailurePolicy,
  };
}
export type JobParams = ReturnType<typeof jobParams>;

/** Why the API server would have refused this Job; the controller does nothing for such a Job but say so. */
export function invalidJob(job: KubeObject): string | undefined {
  const policy = job.spec?.template?.spec?.restartPolicy;
  if (policy !== 'OnFailure' && policy !== 'Never') {
    return `spec.template.spec.restartPolicy: ${policy === undefined ? 'Required value' : `Unsupported value: "${policy}"`}: supported values: "OnFailure", "Never"`;
  }
  const mode = job.spec?.completionMode;
  if (mode !== undefined && mode !== 'NonIndexed' && mode !== 'Indexed') return `spec.completionMode: Unsupported value: "${mode}": supported values: "NonIndexed", "Indexed"`;
  if (mode === 'Indexed' && job.spec?.completions == null) return 'spec.completions: Required value: when completion mode is Indexed';
  if (job.spec?.podFailurePolicy && policy !== 'Never') return 'spec.podFailurePolicy: Invalid value: only "Never" is supported when podFailurePolicy is specified';
  return undefined;
}
