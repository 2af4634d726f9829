// A HorizontalPodAutoscaler is stored in the version it was written in and served in the version asked for, as
// kube-apiserver converts it (pkg/apis/autoscaling/v1/conversion.go): v1 has only a CPU utilisation target, so
// what v2 says beyond it (other metrics, behavior, conditions, current metrics) travels in the
// `autoscaling.alpha.kubernetes.io/*` annotations, and a round trip v2 → v1 → v2 loses nothing.
import type { KubeObject } from '../model/object.ts';

type Obj = Record<string, any>;
const METRICS = 'autoscaling.alpha.kubernetes.io/metrics';
const CURRENT = 'autoscaling.alpha.kubernetes.io/current-metrics';
const CONDITIONS = 'autoscaling.alpha.kubernetes.io/conditions';
const BEHAVIOR = 'autoscaling.alpha.kubernetes.io/behavior';

const isCpuUtilization = (m: Obj) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.target?.type === 'Utilization';
const drop = <T extends Obj>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** A v2 MetricSpec in v1's alpha annotation form. */
function specToV1(m: Obj): Obj {
  const t = (x: Obj | undefined) => x?.target ?? {};
  switch (m.type) {
    case 'Resource': return { type: m.type, resource: drop({ name: m.resource.name, targetAverageUtilization: t(m.resource).averageUtilization, targetAverageValue: t(m.resource).averageValue }) };
    case 'ContainerResource': return { type: m.type, containerResource: drop({ name: m.containerResource.name, container: m.containerResource.container, targetAverageUtilization: t(m.containerResource).averageUtilization, targetAverageValue: t(m.containerResource).averageValue }) };
    case 'Pods': return { type: m.type, pods: drop({ metricName: m.pods.metric?.name, selector: m.pods.metric?.selector, targetAverageValue: t(m.pods).averageValue }) };
    case 'Object': return { type: m.type, object: drop({ target: m.object.describedObject, metricName: m.object.metric?.name, selector: m.object.metric?.selector, targetValue: t(m.object).value, averageValue: t(m.object).averageValue }) };
    case 'External': return { type: m.type, external: drop({ metricName: m.external.metric?.name, metricSelector: m.external.metric?.selector, targetValue: t(m.external).value, targetAverageValue: t(m.external).averageValue }) };
    default: return m;
  }
}

/** v1's alpha annotation form of a MetricSpec, back in v2. */
function specToV2(m: Obj): Obj {
  const target = (util: unknown, avg: unknown, value?: unknown) => drop({
    type: util !== undefined ? 'Utilization' : value !== undefined ? 'Value' : 'AverageValue', averageUtilization: util, averageValue: avg, value,
  });
  switch (m.type) {
    case 'Resource': return { type: m.type, resource: { name: m.resource.name, target: target(m.resource.targetAverageUtilization, m.resource.targetAverageValue) } };
    case 'ContainerResource': return { type: m.type, containerResource: { name: m.containerResource.name, container: m.containerResource.container, target: target(m.containerResource.targetAverageUtilization, m.containerResource.targetAverageValue) } };
    case 'Pods': return { type: m.type, pods: { metric: drop({ name: m.pods.metricName, selector: m.pods.selector }), target: target(undefined, m.pods.targetAverageValue) } };
    case 'Object': return { type: m.type, object: { describedObject: m.object.target, metric: drop({ name: m.object.metricName, selector: m.object.selector }), target: target(undefined, m.object.averageValue, m.object.targetValue) } };
    case 'External': return { type: m.type, external: { metric: drop({ name: m.external.metricName, selector: m.external.metricSelector }), target: target(undefined, m.external.targetAverageValue, m.external.targetValue) } };
    default: return m;
  }
}

/** A v2 MetricStatus in v1's alpha annotation form (and back): the current values under v1's names. */
function statusToV1(m: Obj): Obj {
  const c = (x: Obj | undefined) => x?.current ?? {};
  switch (m.type) {
    case 'Resource': return { type: m.type, resource: drop({ name: m.resource.name, currentAverageUtilization: c(m.resource).averageUtilization, currentAverageValue: c(m.resource).averageValue }) };
    case 'Pods': return { type: m.type, pods: drop({ metricName: m.pods.metric?.name, selector: m.pods.metric?.selector, currentAverageValue: c(m.pods).averageValue }) };
    case 'Object': return { type: m.type, object: drop({ target: m.object.describedObject, metricName: m.object.metric?.name, selector: m.object.metric?.selector, currentValue: c(m.object).value, averageValue: c(m.object).averageValue }) };
    case 'External': return { type: m.type, external: drop({ metricName: m.external.metric?.name, metricSelector: m.external.metric?.selector, currentValue: c(m.external).value, currentAverageValue: c(m.external).averageValue }) };
    default: return m;
  }
}

function statusToV2(m: Obj): Obj {
  switch (m.type) {
    case 'Resource': return { type: m.type, resource: { name: m.resource.name, current: drop({ averageUtilization: m.resource.currentAverageUtilization, averageValue: m.resource.currentAverageValue }) } };
    case 'Pods': return { type: m.type, pods: { metric: drop({ name: m.pods.metricName, selector: m.pods.selector }), current: drop({ averageValue: m.pods.currentAverageValue }) } };
    case 'Object': return { type: m.type, object: { describedObject: m.object.target, metric: drop({ name: m.object.metricName, selector: m.object.selector }), current: drop({ value: m.object.currentValue, averageValue: m.object.averageValue }) } };
    case 'External': return { type: m.type, external: { metric: drop({ name: m.external.metricName, selector: m.external.metricSelector }), current: drop({ value: m.external.currentValue, averageValue: m.external.currentAverageValue }) } };
    default: return m;
  }
}

const parse = (text: string | undefined): any[] | Obj | undefined => {
  if (!text) return undefined;
  try { return JSON.parse(text); } catch { return undefined; }
};

function toV1(hpa: KubeObject): KubeObject {
  const { metrics = [], behavior, ...spec } = (hpa.spec ?? {}) as Obj;
  const cpu = (metrics as Obj[]).find(isCpuUtilization);
  const others = (metrics as Obj[]).filter((m) => m !== cpu);
  const status = (hpa.status ?? {}) as Obj;
  const currentCpu = ((status.currentMetrics ?? []) as Obj[]).find((m) => m.type === 'Resource' && m.resource?.name === 'cpu' && m.resource?.current?.averageUtilization !== undefined);
  const otherCurrent = ((status.currentMetrics ?? []) as Obj[]).filter((m) => m !== currentCpu);
  const annotations: Record<string, string> = { ...hpa.metadata.annotations };
  if (others.length) annotations[METRICS] = JSON.stringify(others.map(specToV1));
  if (behavior) annotations[BEHAVIOR] = JSON.stringify(behavior);
  if (otherCurrent.length) annotations[CURRENT] = JSON.stringify(otherCurrent.map(statusToV1));
  if (status.conditions?.length) annotations[CONDITIONS] = JSON.stringify(status.conditions);
  return {
    ...hpa,
    apiVersion: 'autoscaling/v1',
    metadata: { ...hpa.metadata, ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: drop({ ...spec, targetCPUUtilizationPercentage: cpu?.resource.target.averageUtilization }),
    ...(hpa.status ? { status: drop({
      observedGeneration: status.observedGeneration, lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0, desiredReplicas: status.desiredReplicas ?? 0,
      currentCPUUtilizationPercentage: currentCpu?.resource.current.averageUtilization,
    }) } : {}),
  };
}

function toV2(hpa: KubeObject): KubeObject {
  const { targetCPUUtilizationPercentage, ...spec } = (hpa.spec ?? {}) as Obj;
  const annotations: Record<string, string> = { ...hpa.metadata.annotations };
  const metrics = [
    ...(targetCPUUtilizationPercentage !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: targetCPUUtilizationPercentage } } }] : []),
    ...((parse(annotations[METRICS]) as Obj[] | undefined) ?? []).map(specToV2),
  ];
  const behavior = parse(annotations[BEHAVIOR]);
  const status = (hpa.status ?? {}) as Obj;
  const current = [
    ...(status.currentCPUUtilizationPercentage !== undefined ? [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }] : []),
    ...((parse(annotations[CURRENT]) as Obj[] | undefined) ?? []).map(statusToV2),
  ];
  const conditions = parse(annotations[CONDITIONS]);
  for (const k of [METRICS, BEHAVIOR, CURRENT, CONDITIONS]) delete annotations[k];
  const { annotations: _, ...metadata } = hpa.metadata;
  return {
    ...hpa,
    apiVersion: 'autoscaling/v2',
    metadata: { ...metadata, ...(Object.keys(annotations).length ? { annotations } : {}) },
    // No target at all is v2's default, 80 % CPU, which the API server writes when it reads the v1 object.
    spec: { ...spec, metrics: metrics.length ? metrics : [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }], ...(behavior ? { behavior } : {}) },
    ...(hpa.status ? { status: drop({
      observedGeneration: status.observedGeneration, lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0, desiredReplicas: status.desiredReplicas ?? 0,
      ...(current.length ? { currentMetrics: current } : {}), ...(Array.isArray(conditions) ? { conditions } : {}),
    }) } : {}),
  };
}

/** The HPA as served at autoscaling/`version` (v1 or v2), whatever version it is stored in. */
export function hpaIn(version: string, hpa: KubeObject): KubeObject {
  const stored = hpa.apiVersion === 'autoscaling/v1' ? 'v1' : 'v2';
  if (stored === version) return hpa;
  return version === 'v1' ? toV1(hpa) : toV2(hpa);
}
