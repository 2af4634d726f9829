// StatefulSet health, after Argo CD's health_statefulset.go (generation observed, ready pods, a partitioned roll
// out, OnDelete, current vs update revision), plus convergit's degraded-pod rule: a failing pod of the set makes
// it Degraded at once, and the message names the pod it waits on.
import type { KubeObject } from '../model/object.ts';
import { owned } from './owned.ts';
import { waitingOn } from './waiting-on.ts';
import type { HealthContext, ObjectHealth } from './types.ts';

export function statefulSetHealth(sts: KubeObject, ctx: HealthContext): ObjectHealth {
  const name = `StatefulSet ${sts.metadata.name}`;
  const s = sts.status ?? {};
  const generation = sts.metadata.generation ?? 1;
  const observed: number = s.observedGeneration ?? 0;
  if (observed < generation) return { status: 'Progressing', message: `${name}: waiting for statefulset spec update to be observed...` };
  const want: number = sts.spec?.replicas ?? 1;
  const ready: number = s.readyReplicas ?? 0;
  const updated: number = s.updatedReplicas ?? 0;
  const waiting = waitingOn(owned(sts, 'Pod', ctx, true));
  const on = waiting ? `, waiting on ${waiting.text}` : '';
  const causes = waiting ? { causes: waiting.causes } : {};
  if (waiting?.health.status === 'Degraded') return { status: 'Degraded', message: `${name}: ${ready}/${want} pods ready${on}`, ...causes };
  if (ready < want) return { status: 'Progressing', message: `${name}: waiting for ${want - ready} pods to be ready...${on}`, ...causes };

  const strategy = sts.spec?.updateStrategy ?? {};
  if ((strategy.type ?? 'RollingUpdate') === 'RollingUpdate' && strategy.rollingUpdate?.partition !== undefined) {
    const toUpdate = want - strategy.rollingUpdate.partition;
    if (updated < toUpdate) {
      return { status: 'Progressing', message: `${name}: waiting for partitioned roll out to finish: ${updated} out of ${toUpdate} new pods have been updated...${on}`, ...causes };
    }
    return { status: 'Healthy', message: `${name}: partitioned roll out complete: ${updated} new pods have been updated...` };
  }
  if (strategy.type === 'OnDelete') return { status: 'Healthy', message: `${name}: statefulset has ${ready} ready pods` };
  if (s.updateRevision !== s.currentRevision) {
    return { status: 'Progressing', message: `${name}: waiting for statefulset rolling update to complete ${updated} pods at revision ${s.updateRevision}...${on}`, ...causes };
  }
  return { status: 'Healthy', message: `${name}: statefulset rolling update complete ${s.currentReplicas ?? ready} pods at revision ${s.currentRevision}...` };
}
