// PodDisruptionBudget health. Argo CD assesses none (a budget is configuration); here it is Progressing until the
// disruption controller has computed the current spec, then Healthy with what it allows: a budget that allows no
// disruption now is working as written, not failing.
import type { KubeObject } from '../model/object.ts';
import type { ObjectHealth } from './types.ts';

export function podDisruptionBudgetHealth(pdb: KubeObject): ObjectHealth {
  const s = pdb.status ?? {};
  const name = `PodDisruptionBudget ${pdb.metadata.name}`;
  if ((s.observedGeneration ?? 0) < (pdb.metadata.generation ?? 1)) return { status: 'Progressing', message: `${name}: waiting for the disruption controller` };
  return { status: 'Healthy', message: `${name}: ${s.currentHealthy ?? 0} healthy of ${s.desiredHealthy ?? 0} needed, ${s.disruptionsAllowed ?? 0} disruption(s) allowed` };
}
