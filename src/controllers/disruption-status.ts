// A PodDisruptionBudget's status (pure), as kube-controller-manager's disruption controller computes it: the pods
// it expects (its selected pods, or for a percentage or maxUnavailable the scale of their controllers), how many
// must stay healthy, how many are (Ready, not being deleted, not just evicted), and how many evictions that allows.
import { setCondition, type Condition } from '../model/conditions.ts';
import type { KubeObject } from '../model/object.ts';
import { isPodReady } from '../model/pod.ts';
import { isoSeconds } from '../model/time.ts';

/** How long an eviction is remembered in status.disruptedPods before the pod must be gone (upstream's DeletionTimeout). */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;

type IntOrPercent = number | string | undefined;
const isPercent = (v: IntOrPercent): v is string => typeof v === 'string' && v.endsWith('%');
/** A percentage of `total`, rounded up, as the disruption controller scales both fields. */
const scaleUp = (v: number | string, total: number) => (isPercent(v) ? Math.ceil((Number(v.slice(0, -1)) * total) / 100) : Number(v));

export interface PdbInput {
  pdb: KubeObject;
  /** The pods its selector selects in its namespace. */
  pods: KubeObject[];
  /** The summed scale of the pods' controllers; undefined when some controller's scale cannot be found. */
  expectedScale: () => number | undefined;
  now: Date;
}

/** The status, or the SyncFailed condition's message when the expected count cannot be known. */
export function pdbStatus({ pdb, pods, expectedScale, now }: PdbInput): { status: Record<string, unknown>; error?: string } {
  const nowIso = isoSeconds(now);
  const { minAvailable, maxUnavailable } = pdb.spec ?? {};
  let expected = 0, desired = 0;
  let error: string | undefined;
  if (maxUnavailable !== undefined && maxUnavailable !== null) {
    const scale = expectedScale();
    if (scale === undefined) error = 'found no controllers for some pods';
    expected = scale ?? 0;
    desired = Math.max(0, expected - scaleUp(maxUnavailable, expected));
  } else if (minAvailable !== undefined && minAvailable !== null) {
    if (isPercent(minAvailable)) {
      const scale = expectedScale();
      if (scale === undefined) error = 'found no controllers for some pods';
      expected = scale ?? 0;
      desired = scaleUp(minAvailable, expected);
    } else {
      expected = pods.length;
      desired = Number(minAvailable);
    }
  }
  // Evictions remembered until their pod is gone or being deleted, at most the timeout.
  const disrupted: Record<string, string> = {};
  for (const [name, at] of Object.entries((pdb.status?.disruptedPods ?? {}) as Record<string, string>)) {
    const pod = pods.find((p) => p.metadata.name === name);
    if (pod && !pod.metadata.deletionTimestamp && Date.parse(at) + DISRUPTED_POD_TIMEOUT_MS > now.getTime()) disrupted[name] = at;
  }
  const healthy = pods.filter((p) => !p.metadata.deletionTimestamp && !(p.metadata.name in disrupted) && isPodReady(p)).length;
  const allowed = error ? 0 : Math.max(0, healthy - desired);
  const generation = pdb.metadata.generation ?? 1;
  const cond: Condition = error
    ? { type: 'DisruptionAllowed', status: 'False', reason: 'SyncFailed', message: error, observedGeneration: generation } as Condition
    : { type: 'DisruptionAllowed', status: allowed > 0 ? 'True' : 'False', reason: allowed > 0 ? 'SufficientPods' : 'InsufficientPods', message: '', observedGeneration: generation } as Condition;
  const status: Record<string, unknown> = {
    observedGeneration: generation,
    ...(Object.keys(disrupted).length && { disruptedPods: disrupted }),
    disruptionsAllowed: allowed,
    currentHealthy: healthy,
    desiredHealthy: desired,
    expectedPods: expected,
    conditions: setCondition(pdb.status?.conditions, cond, nowIso),
  };
  return { status, error };
}

/** The wait until the next remembered eviction expires, so the controller looks again then. */
export function nextExpiry(status: Record<string, unknown>, now: Date): number | undefined {
  const times = Object.values((status.disruptedPods ?? {}) as Record<string, string>).map((t) => Date.parse(t) + DISRUPTED_POD_TIMEOUT_MS - now.getTime());
  return times.length ? Math.max(1, Math.min(...times)) : undefined;
}
