// Job health, after Argo CD's health_job.go (Failed is Degraded, Complete is Healthy, Suspended is Suspended,
// anything else Progressing), with Kubernetes 1.32's interim conditions: FailureTarget is already Degraded (the
// failure is decided, only its pods are still stopping), SuccessCriteriaMet still Progressing until Complete.
// While it runs, the pod it waits on is named (a pod failing within backoffLimit does not degrade the Job).
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { owned } from './owned.ts';
import { waitingOn } from './waiting-on.ts';
import type { HealthContext, ObjectHealth } from './types.ts';

const isTrue = (job: KubeObject, type: string) => getCondition(job.status?.conditions, type)?.status === 'True';

export function jobHealth(job: KubeObject, ctx: HealthContext): ObjectHealth {
  const name = `Job ${job.metadata.name}`;
  for (const type of ['Failed', 'FailureTarget']) {
    if (!isTrue(job, type)) continue;
    const c = getCondition(job.status?.conditions, type)!;
    return { status: 'Degraded', message: `${name} failed: ${c.reason ?? type}${c.message ? `: ${c.message}` : ''}` };
  }
  const s = job.status ?? {};
  const completions: number | undefined = job.spec?.completions ?? (job.spec?.parallelism == null ? 1 : undefined);
  const done = completions === undefined ? `${s.succeeded ?? 0} succeeded` : `${s.succeeded ?? 0}/${completions} completions`;
  if (isTrue(job, 'Complete')) return { status: 'Healthy', message: `${name}: Complete, ${done}` };
  if (isTrue(job, 'Suspended') || (job.spec?.suspend === true && !s.active)) return { status: 'Suspended', message: `${name} is suspended` };
  const counts = [`${s.active ?? 0} active`, done, ...(s.failed ? [`${s.failed} failed`] : [])].join(', ');
  if (isTrue(job, 'SuccessCriteriaMet')) return { status: 'Progressing', message: `${name}: succeeded, waiting for its pods to stop (${counts})` };
  const waiting = waitingOn(owned(job, 'Pod', ctx, true));
  if (waiting && waiting.health.status !== 'Healthy') return { status: 'Progressing', message: `${name}: ${counts}, waiting on ${waiting.text}`, causes: waiting.causes };
  return { status: 'Progressing', message: `${name}: ${counts}` };
}
