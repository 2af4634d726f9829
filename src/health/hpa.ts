// HorizontalPodAutoscaler health, after Argo CD's health_hpa.go: the first condition (in status order) that is
// a known failure (AbleToScale FailedGetScale / FailedUpdateScale, ScalingActive FailedGetResourceMetric /
// InvalidSelector) is Degraded, the first known good one (AbleToScale SucceededRescale, ScalingLimited
// DesiredWithinRange / TooFewReplicas / TooManyReplicas) Healthy, else Progressing "Waiting to Autoscale". An
// autoscaling/v1 object has no conditions in its status: Healthy once the controller has reported on it.
import type { KubeObject } from '../model/object.ts';
import type { ObjectHealth } from './types.ts';

const DEGRADED = ['AbleToScale/FailedGetScale', 'AbleToScale/FailedUpdateScale', 'ScalingActive/FailedGetResourceMetric', 'ScalingActive/InvalidSelector'];
const HEALTHY = ['AbleToScale/SucceededRescale', 'ScalingLimited/DesiredWithinRange', 'ScalingLimited/TooFewReplicas', 'ScalingLimited/TooManyReplicas'];

export function hpaHealth(hpa: KubeObject): ObjectHealth {
  if (hpa.apiVersion === 'autoscaling/v1') {
    return hpa.status?.desiredReplicas !== undefined
      ? { status: 'Healthy', message: `HorizontalPodAutoscaler ${hpa.metadata.name}: ${hpa.status.currentReplicas} current, ${hpa.status.desiredReplicas} desired` }
      : { status: 'Progressing', message: 'Waiting to Autoscale' };
  }
  for (const c of (hpa.status?.conditions ?? []) as { type: string; reason?: string; message?: string }[]) {
    const k = `${c.type}/${c.reason}`;
    if (DEGRADED.includes(k)) return { status: 'Degraded', message: c.message ?? k };
    if (HEALTHY.includes(k)) return { status: 'Healthy', message: c.message ?? k };
  }
  return { status: 'Progressing', message: 'Waiting to Autoscale' };
}
