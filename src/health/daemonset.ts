// DaemonSet health, after Argo CD's health_daemonset.go: the controller must have observed the generation; OnDelete
// is Healthy whatever is updated; otherwise Progressing until every node runs an updated pod and all are available.
// As for ReplicaSets, one of its pods failing makes it Degraded at once.
import type { KubeObject } from '../model/object.ts';
import { owned } from './owned.ts';
import { waitingOn } from './waiting-on.ts';
import type { HealthContext, ObjectHealth } from './types.ts';

export function daemonSetHealth(ds: KubeObject, ctx: HealthContext): ObjectHealth {
  const s = ds.status ?? {};
  if ((ds.metadata.generation ?? 1) > (s.observedGeneration ?? 0)) {
    return { status: 'Progressing', message: 'Waiting for rollout to finish: observed daemon set generation less than desired generation' };
  }
  const desired: number = s.desiredNumberScheduled ?? 0, updated: number = s.updatedNumberScheduled ?? 0, available: number = s.numberAvailable ?? 0;
  if (ds.spec?.updateStrategy?.type === 'OnDelete') {
    return { status: 'Healthy', message: `daemon set ${updated} out of ${desired} new pods have been updated` };
  }
  const waiting = waitingOn(owned(ds, 'Pod', ctx, true));
  const causes = waiting ? { causes: waiting.causes } : {};
  const on = waiting ? `, waiting on ${waiting.text}` : '';
  if (waiting?.health.status === 'Degraded') {
    return { status: 'Degraded', message: `daemon set "${ds.metadata.name}": ${available} of ${desired} pods available${on}`, ...causes };
  }
  if (updated < desired) {
    return { status: 'Progressing', message: `Waiting for daemon set "${ds.metadata.name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...${on}`, ...causes };
  }
  if (available < desired) {
    return { status: 'Progressing', message: `Waiting for daemon set "${ds.metadata.name}" rollout to finish: ${available} of ${desired} updated pods are available...${on}`, ...causes };
  }
  return { status: 'Healthy', message: `daemon set "${ds.metadata.name}": ${available} of ${desired} pods available` };
}
