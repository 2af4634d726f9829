// The HorizontalPodAutoscaler's replica calculator for Resource metrics (cpu, memory), as Kubernetes' (pkg/controller/
// podautoscaler/replica_calculator.go): pods grouped into ready, unready (cpu only: not yet ready, or just started
// and not measured since) and missing (no sample); a change within the tolerance is no change; on a scale-up unready
// and missing pods count as using nothing, on a scale-down missing pods count as using their request (or the target),
// and a result that would turn the direction around keeps the current count. Pure.
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { parseQuantity } from '../model/quantity.ts';

/** One pod's usage of the resource: summed over its containers (cpu in cores, memory in bytes). */
export interface PodMetric { value: number; timestamp: Date; windowMs: number }

export interface CalculatorOptions {
  tolerance: number;
  /** kube-controller-manager's --horizontal-pod-autoscaler-cpu-initialization-period (5 min). */
  cpuInitializationPeriodMs: number;
  /** --horizontal-pod-autoscaler-initial-readiness-delay (30 s). */
  delayOfInitialReadinessStatusMs: number;
}

export const DEFAULT_CALCULATOR: CalculatorOptions = { tolerance: 0.1, cpuInitializationPeriodMs: 300_000, delayOfInitialReadinessStatusMs: 30_000 };

export type Target = { type: 'Utilization'; averageUtilization: number } | { type: 'AverageValue'; averageValue: number };

export interface Recommendation {
  replicas: number;
  /** Percent of the requests (Utilization targets). */
  utilization?: number;
  /** Average usage per pod, cores or bytes. */
  averageValue: number;
}

export class MetricsError extends Error {}

/** Kubernetes' groupPods: which pods count, which are left out as unready, which have no sample. */
export function groupPods(pods: KubeObject[], metrics: Map<string, PodMetric>, resource: string, now: Date, opts: CalculatorOptions) {
  let ready = 0;
  const unready = new Set<string>();
  const missing = new Set<string>();
  const ignored = new Set<string>();
  for (const pod of pods) {
    const name = pod.metadata.name;
    if (pod.metadata.deletionTimestamp || pod.status?.phase === 'Failed') { ignored.add(name); continue; }
    if (pod.status?.phase === 'Pending') { unready.add(name); continue; }
    const metric = metrics.get(name);
    if (!metric) { missing.add(name); continue; }
    if (resource === 'cpu') {
      const cond = getCondition(pod.status?.conditions, 'Ready');
      const start = pod.status?.startTime ? new Date(pod.status.startTime) : undefined;
      let isUnready: boolean;
      if (!cond || !start) isUnready = true;
      else {
        const transition = cond.lastTransitionTime ? Date.parse(cond.lastTransitionTime) : 0;
        if (start.getTime() + opts.cpuInitializationPeriodMs > now.getTime()) {
          // Just started: a sample taken before it became ready (plus a window) says nothing of its steady use.
          isUnready = cond.status === 'False' || metric.timestamp.getTime() < transition + metric.windowMs;
        } else {
          // Later: only a pod that has never been ready since its start counts as unready.
          isUnready = cond.status === 'False' && start.getTime() + opts.delayOfInitialReadinessStatusMs > transition;
        }
      }
      if (isUnready) { unready.add(name); continue; }
    }
    ready++;
  }
  return { ready, unready, missing, ignored };
}

/** A pod's request of the resource, the sum over its containers; undefined when a container has none. */
export function podRequest(pod: KubeObject, resource: string): { value?: number; missing?: string } {
  let sum = 0;
  for (const c of pod.spec?.containers ?? []) {
    const q = c.resources?.requests?.[resource];
    if (q === undefined) return { missing: c.name };
    sum += parseQuantity(q);
  }
  return { value: sum };
}

/** The usage ratio of a Utilization target: the mean utilization (a whole percent, as Kubernetes rounds it) over the target. */
function utilizationRatio(metrics: Map<string, number>, requests: Map<string, number>, target: number) {
  let used = 0, requested = 0;
  for (const [name, v] of metrics) {
    const r = requests.get(name);
    if (r === undefined) continue; // a pod without a sample's request does not count
    used += v;
    requested += r;
  }
  if (requested === 0) throw new MetricsError('no metrics returned matched known pods');
  const utilization = Math.trunc((used * 100) / requested);
  return { ratio: utilization / target, utilization, average: used / metrics.size };
}

function averageRatio(metrics: Map<string, number>, target: number) {
  let used = 0;
  for (const v of metrics.values()) used += v;
  const average = used / metrics.size;
  return { ratio: average / target, average };
}

/** GetResourceReplicas / GetRawResourceReplicas: the replicas `target` asks for, given the pods and their samples. */
export function resourceReplicas(
  currentReplicas: number, target: Target, resource: string, pods: KubeObject[], samples: Map<string, PodMetric>, now: Date,
  opts: CalculatorOptions = DEFAULT_CALCULATOR,
): Recommendation {
  if (!pods.length) throw new MetricsError('no pods returned by selector while calculating replica count');
  const { ready, unready, missing } = groupPods(pods, samples, resource, now, opts);
  const metrics = new Map<string, number>();
  for (const [name, m] of samples) if (pods.some((p) => p.metadata.name === name) && !unready.has(name)) metrics.set(name, m.value);
  for (const p of pods) if (unready.has(p.metadata.name) || p.metadata.deletionTimestamp || p.status?.phase === 'Failed') metrics.delete(p.metadata.name);
  const requests = new Map<string, number>();
  if (target.type === 'Utilization') {
    for (const p of pods) {
      const r = podRequest(p, resource);
      if (r.missing) throw new MetricsError(`missing request for ${resource} in container ${r.missing} of Pod ${p.metadata.name}`);
      requests.set(p.metadata.name, r.value!);
    }
  }
  if (!metrics.size) throw new MetricsError('did not receive metrics for targeted pods (pods might be unready)');

  const ratioOf = (m: Map<string, number>) => target.type === 'Utilization'
    ? utilizationRatio(m, requests, target.averageUtilization)
    : { ...averageRatio(m, target.averageValue), utilization: undefined };
  const first = ratioOf(metrics);
  const out = (replicas: number): Recommendation => ({ replicas, averageValue: first.average, ...(first.utilization !== undefined && { utilization: first.utilization }) });
  const usage = first.ratio;

  const rebalanceUnready = unready.size > 0 && usage > 1;
  if (!rebalanceUnready && !missing.size) {
    if (Math.abs(1 - usage) <= opts.tolerance) return out(currentReplicas);
    return out(Math.ceil(usage * ready));
  }
  // Assume the worst for the direction being considered, then look again.
  if (missing.size) {
    for (const name of missing) {
      if (usage < 1) metrics.set(name, target.type === 'Utilization' ? requests.get(name)! : target.averageValue);
      else if (usage > 1) metrics.set(name, 0);
    }
  }
  if (rebalanceUnready) for (const name of unready) metrics.set(name, 0);
  const next = ratioOf(metrics).ratio;
  if (Math.abs(1 - next) <= opts.tolerance || (usage < 1 && next > 1) || (usage > 1 && next < 1)) return out(currentReplicas);
  const replicas = Math.ceil(next * metrics.size);
  if ((next < 1 && replicas > currentReplicas) || (next > 1 && replicas < currentReplicas)) return out(currentReplicas);
  return out(replicas);
}
