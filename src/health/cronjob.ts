// CronJob health, after Argo CD's batch/CronJob health.lua: Suspended when suspended, Degraded when its last
// execution did not succeed, Healthy otherwise. convergit looks at the CronJob's Jobs when the snapshot has them,
// so a failure names the Job and its reason; without them it compares lastSuccessfulTime with lastScheduleTime.
// A running Job keeps the CronJob Healthy: a schedule firing is its normal life, not a rollout.
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { owned } from './owned.ts';
import type { HealthContext, ObjectHealth } from './types.ts';

const finished = (job: KubeObject) => ['Complete', 'Failed'].find((t) => getCondition(job.status?.conditions, t)?.status === 'True');
const scheduledAt = (job: KubeObject) => Date.parse(job.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp'] ?? job.metadata.creationTimestamp ?? '') || 0;

export function cronJobHealth(cj: KubeObject, ctx: HealthContext): ObjectHealth {
  const name = `CronJob ${cj.metadata.name}`;
  if (cj.spec?.suspend === true) return { status: 'Suspended', message: `${name} is suspended` };
  const s = cj.status ?? {};
  if (!s.lastScheduleTime) return { status: 'Healthy', message: `${name} has not been scheduled yet` };
  const last = owned(cj, 'Job', ctx).filter((j) => finished(j)).sort((a, b) => scheduledAt(b) - scheduledAt(a))[0];
  if (last) {
    if (finished(last) === 'Failed') {
      const c = getCondition(last.status.conditions, 'Failed')!;
      return { status: 'Degraded', message: `${name}: its last Job ${last.metadata.name} failed: ${c.reason ?? 'Failed'}${c.message ? `: ${c.message}` : ''}` };
    }
    return { status: 'Healthy', message: `${name}: its last Job ${last.metadata.name} succeeded` };
  }
  const active = s.active?.length ?? 0;
  if (!active && (!s.lastSuccessfulTime || Date.parse(s.lastSuccessfulTime) < Date.parse(s.lastScheduleTime))) {
    return { status: 'Degraded', message: `${name} has not run successfully since ${s.lastScheduleTime}` };
  }
  return { status: 'Healthy', message: active ? `${name}: ${active} Job(s) running` : `${name}: last succeeded at ${s.lastSuccessfulTime}` };
}
