// Deployment health, after Argo CD's health_deployment.go (paused, generation, progress deadline, rollout counts),
// plus convergit's degraded-pod rule: a failing pod of the newest ReplicaSet makes the Deployment Degraded at once,
// instead of after progressDeadlineSeconds, and the message names the pod the rollout waits on and why.
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { equalIgnoreHash } from '../controllers/pod-template-hash.ts';
import { REVISION_ANNOTATION } from '../controllers/rollout.ts';
import { owned } from './owned.ts';
import { waitingOn } from './waiting-on.ts';
import type { HealthContext, ObjectHealth } from './types.ts';

const revision = (rs: KubeObject) => Number(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? 0) || 0;

/** The ReplicaSet of the Deployment's current template; failing that, the one with the highest revision. */
export function newestReplicaSet(d: KubeObject, replicaSets: readonly KubeObject[]): KubeObject | undefined {
  return replicaSets.find((rs) => equalIgnoreHash(rs.spec?.template, d.spec?.template))
    ?? [...replicaSets].sort((a, b) => revision(b) - revision(a))[0];
}

export function deploymentHealth(d: KubeObject, ctx: HealthContext): ObjectHealth {
  const name = `Deployment ${d.metadata.name}`;
  if (d.spec?.paused) return { status: 'Suspended', message: `${name} is paused` };
  const generation = d.metadata.generation ?? 1;
  const s = d.status ?? {};
  const observed: number = s.observedGeneration ?? 0;
  if (observed < generation) {
    return { status: 'Progressing', message: `${name}: waiting for the controller to observe generation ${generation} (observed ${observed})` };
  }
  const want: number = d.spec?.replicas ?? 1;
  const updated: number = s.updatedReplicas ?? 0;
  const total: number = s.replicas ?? 0;
  const available: number = s.availableReplicas ?? 0;
  const newRS = newestReplicaSet(d, owned(d, 'ReplicaSet', ctx));
  const waiting = newRS && waitingOn(owned(newRS, 'Pod', ctx, true));
  const counts = `${name}: ${available}/${want} replicas available`;
  const on = waiting ? `, rollout waiting on ${waiting.text}` : '';
  const causes = waiting ? { causes: waiting.causes } : {};

  if (waiting?.health.status === 'Degraded') return { status: 'Degraded', message: `${counts}${on}`, ...causes };
  if (getCondition(s.conditions, 'Progressing')?.reason === 'ProgressDeadlineExceeded') {
    return { status: 'Degraded', message: `${name} exceeded its progress deadline: ${available}/${want} replicas available${on}`, ...causes };
  }
  const failure = getCondition(s.conditions, 'ReplicaFailure');
  if (failure?.status === 'True') return { status: 'Degraded', message: `${counts}, ${failure.reason ?? 'ReplicaFailure'}: ${failure.message ?? ''}`.trimEnd() };
  if (updated < want) return { status: 'Progressing', message: `${counts}, ${updated}/${want} updated${on}`, ...causes };
  if (total > updated) {
    const old = total - updated;
    return { status: 'Progressing', message: `${counts}, ${old} old replica${old === 1 ? '' : 's'} pending termination${on}`, ...causes };
  }
  if (available < updated) return { status: 'Progressing', message: `${counts}${on}`, ...causes };
  return { status: 'Healthy', message: counts };
}
