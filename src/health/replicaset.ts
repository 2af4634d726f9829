// ReplicaSet health, after Argo CD's health_replicaset.go (ReplicaFailure is Degraded, fewer available than asked
// is Progressing), plus convergit's degraded-pod rule: one of its pods failing makes it Degraded at once.
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { owned } from './owned.ts';
import { waitingOn } from './waiting-on.ts';
import type { HealthContext, ObjectHealth } from './types.ts';

export function replicaSetHealth(rs: KubeObject, ctx: HealthContext): ObjectHealth {
  const name = `${rs.kind} ${rs.metadata.name}`;
  const generation = rs.metadata.generation ?? 1;
  const observed = rs.status?.observedGeneration ?? 0;
  if (observed < generation) {
    return { status: 'Progressing', message: `${name}: waiting for the controller to observe generation ${generation} (observed ${observed})` };
  }
  const failure = getCondition(rs.status?.conditions, 'ReplicaFailure');
  if (failure?.status === 'True') return { status: 'Degraded', message: `${name}: ${failure.reason ?? 'ReplicaFailure'}: ${failure.message ?? ''}`.trimEnd() };
  const want: number = rs.spec?.replicas ?? 1;
  const available: number = rs.status?.availableReplicas ?? 0;
  const counts = `${name}: ${available}/${want} replicas available`;
  const waiting = waitingOn(owned(rs, 'Pod', ctx, true));
  const causes = waiting ? { causes: waiting.causes } : {};
  if (waiting?.health.status === 'Degraded') return { status: 'Degraded', message: `${counts}, waiting on ${waiting.text}`, ...causes };
  if (available < want) return { status: 'Progressing', message: waiting ? `${counts}, waiting on ${waiting.text}` : counts, ...causes };
  return { status: 'Healthy', message: counts };
}
