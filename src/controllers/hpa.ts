// The HorizontalPodAutoscaler controller (autoscaling/v2, and v1 objects): every sync period it reads the target's
// scale (spec.replicas of a Deployment, StatefulSet or ReplicaSet) and its pods' cpu or memory usage, asks the replica
// calculator for each Resource metric, takes the highest, normalises it (stabilisation window, behavior policies,
// min/max) and writes the target's spec.replicas; then the HPA's status and conditions (AbleToScale, ScalingActive,
// ScalingLimited) as kube-controller-manager's horizontal.go does. Git owns the target's other fields; the sync
// keeps the replicas this controller set (plan/plan.ts).
import type { KubeObject } from '../model/object.ts';
import { keyOf, splitKey } from '../model/key.ts';
import { setCondition, type Condition } from '../model/conditions.ts';
import { matchesSelector } from '../model/selector.ts';
import { parseQuantity } from '../model/quantity.ts';
import { isoSeconds } from '../model/time.ts';
import type { ControllerContext, ControllerSpec, SyncResult } from './controller.ts';
import { DEFAULT_CALCULATOR, MetricsError, resourceReplicas, type CalculatorOptions, type Target } from './hpa-replica-calculator.ts';
import { emptyHistory, normalize, recordScale, type History } from './hpa-behavior.ts';
import { podResourceMetrics } from './hpa-metrics.ts';

export interface HpaControllerOptions {
  /** --horizontal-pod-autoscaler-sync-period: 15 s. */
  syncPeriodMs?: number;
  /** --horizontal-pod-autoscaler-downscale-stabilization: 300 s. */
  downscaleStabilizationSeconds?: number;
  calculator?: Partial<CalculatorOptions>;
}

/** The kinds an HPA may scale, with their resource names for messages. */
export const SCALABLE: Record<string, string> = { Deployment: 'deployments.apps', StatefulSet: 'statefulsets.apps', ReplicaSet: 'replicasets.apps' };

/** `index`: its place in spec.metrics, where its status goes in status.currentMetrics. */
interface ResourceMetricSpec { name: string; target: Target; index: number }

/** The Resource metrics an HPA asks for: v2's `metrics` (default cpu at 80 %), v1's targetCPUUtilizationPercentage. */
export function metricSpecs(hpa: KubeObject): { resources: ResourceMetricSpec[]; unsupported: string[] } {
  const spec = hpa.spec ?? {};
  if (hpa.apiVersion === 'autoscaling/v1' || !spec.metrics) {
    return { resources: [{ name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage ?? 80 }, index: 0 }], unsupported: [] };
  }
  const resources: ResourceMetricSpec[] = [];
  const unsupported: string[] = [];
  for (const [index, m] of (spec.metrics as any[]).entries()) {
    const t = m.resource?.target;
    if (m.type !== 'Resource' || !t) { unsupported.push(m.type); continue; }
    if (t.type === 'Utilization' && t.averageUtilization !== undefined) resources.push({ name: m.resource.name, target: { type: 'Utilization', averageUtilization: t.averageUtilization }, index });
    else if (t.type === 'AverageValue' && t.averageValue !== undefined) resources.push({ name: m.resource.name, target: { type: 'AverageValue', averageValue: parseQuantity(t.averageValue) }, index });
    else unsupported.push(`Resource ${m.resource.name} with target type ${t.type}`);
  }
  return { resources, unsupported };
}

const metricName = (m: ResourceMetricSpec) => (m.target.type === 'Utilization' ? `${m.name} resource utilization (percentage of request)` : `${m.name} resource`);
const quantity = (resource: string, v: number) => (resource === 'cpu' ? `${Math.round(v * 1000)}m` : `${Math.round(v)}`);

export function hpaController(opts: HpaControllerOptions = {}): ControllerSpec {
  const syncPeriodMs = opts.syncPeriodMs ?? 15_000;
  const calc: CalculatorOptions = { ...DEFAULT_CALCULATOR, ...opts.calculator };
  const histories = new Map<string, History>();
  const targeting = (ctx: ControllerContext, o: KubeObject) => ctx.informer('HorizontalPodAutoscaler').list(o.metadata.namespace)
    .filter((h) => h.spec?.scaleTargetRef?.kind === o.kind && h.spec?.scaleTargetRef?.name === o.metadata.name);

  return {
    name: 'horizontal-pod-autoscaler',
    kinds: ['HorizontalPodAutoscaler', ...Object.keys(SCALABLE), 'Pod', 'Node'],
    watch(ctx, enqueue) {
      ctx.informer('HorizontalPodAutoscaler').on({
        add: (o) => enqueue(keyOf(o)),
        // Its own status writes need no new sync: the next one comes after the sync period.
        update: (old, o) => { if (old.metadata.generation !== o.metadata.generation) enqueue(keyOf(o)); },
        delete: (o) => { histories.delete(keyOf(o)); },
      });
      for (const kind of Object.keys(SCALABLE)) {
        ctx.informer(kind).on({
          add: (o) => targeting(ctx, o).forEach((h) => enqueue(keyOf(h))),
          delete: (o) => targeting(ctx, o).forEach((h) => enqueue(keyOf(h))),
        });
      }
    },
    async sync(key, ctx): Promise<SyncResult> {
      const { namespace, name } = splitKey(key);
      const hpa = ctx.informer('HorizontalPodAutoscaler').get(namespace, name);
      if (!hpa) { histories.delete(key); return; }
      let history = histories.get(key);
      if (!history) histories.set(key, (history = emptyHistory()));
      await reconcile(hpa, history, ctx, calc, opts.downscaleStabilizationSeconds ?? 300);
      return { requeueAfterMs: syncPeriodMs };
    },
  };
}

async function reconcile(hpa: KubeObject, history: History, ctx: ControllerContext, calc: CalculatorOptions, downscaleWindowSeconds: number): Promise<void> {
  const { store } = ctx;
  const now = ctx.now();
  const stamp = isoSeconds(now);
  const ns = hpa.metadata.namespace ?? 'default';
  const ref = hpa.spec?.scaleTargetRef ?? {};
  const v1 = hpa.apiVersion === 'autoscaling/v1';
  const event = (type: 'Normal' | 'Warning', reason: string, message: string) =>
    store.recordEvent({ apiVersion: hpa.apiVersion, kind: hpa.kind, namespace: ns, name: hpa.metadata.name, uid: hpa.metadata.uid }, type, reason, message).catch(() => {});
  let conditions: Condition[] | undefined = hpa.status?.conditions;
  const cond = (type: string, status: 'True' | 'False', reason: string, message: string) => {
    conditions = setCondition(conditions, { type, status, reason, message }, stamp);
  };
  const writeStatus = async (s: Record<string, unknown>) => {
    const status = v1
      ? { currentReplicas: s.currentReplicas, desiredReplicas: s.desiredReplicas, ...(s.lastScaleTime ? { lastScaleTime: s.lastScaleTime } : {}),
        ...(s.cpu !== undefined && { currentCPUUtilizationPercentage: s.cpu }) }
      : { observedGeneration: hpa.metadata.generation, ...(s.lastScaleTime ? { lastScaleTime: s.lastScaleTime } : {}),
        currentReplicas: s.currentReplicas, desiredReplicas: s.desiredReplicas, ...(s.currentMetrics ? { currentMetrics: s.currentMetrics } : {}), conditions };
    if (JSON.stringify(status) !== JSON.stringify(hpa.status)) await store.updateStatus('HorizontalPodAutoscaler', ns, hpa.metadata.name, status, { shared: true });
  };
  const lastScaleTime = hpa.status?.lastScaleTime;

  const resourceName = SCALABLE[ref.kind];
  const target = resourceName ? ctx.informer(ref.kind).get(ns, ref.name) : undefined;
  if (!target) {
    const why = resourceName ? `${resourceName} "${ref.name}" not found` : `the kind ${ref.kind} has no scale convergit can set (Deployment, StatefulSet, ReplicaSet)`;
    event('Warning', 'FailedGetScale', why);
    cond('AbleToScale', 'False', 'FailedGetScale', `the HPA controller was unable to get the target's current scale: ${why}`);
    return writeStatus({ currentReplicas: hpa.status?.currentReplicas ?? 0, desiredReplicas: hpa.status?.desiredReplicas ?? 0, lastScaleTime, currentMetrics: hpa.status?.currentMetrics });
  }
  cond('AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale');
  const current: number = target.spec?.replicas ?? 1;
  const min: number = hpa.spec?.minReplicas ?? 1;
  const max: number = hpa.spec?.maxReplicas ?? min;

  let desired = 0;
  let rescaleReason = '';
  let currentMetrics: unknown[] | undefined;
  let cpuUtilization: number | undefined;
  if (current === 0 && min !== 0) {
    cond('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero');
    return writeStatus({ currentReplicas: current, desiredReplicas: 0, lastScaleTime, currentMetrics: hpa.status?.currentMetrics });
  } else if (current > max) {
    rescaleReason = 'Current number of replicas above Spec.MaxReplicas';
    desired = max;
  } else if (current < min) {
    rescaleReason = 'Current number of replicas below Spec.MinReplicas';
    desired = min;
  } else {
    const { resources, unsupported } = metricSpecs(hpa);
    const pods = target.spec?.selector ? ctx.informer('Pod').list(ns).filter((p) => matchesSelector(target.spec.selector, p.metadata.labels)) : [];
    const nodes = ctx.informer('Node').list();
    let best = -1, bestName = '';
    const errors: string[] = unsupported.map((u) => `the metric type ${u} is not supported by convergit (only Resource cpu and memory)`);
    // One entry per spec.metrics item, in its order (an empty one for a metric that failed), as Kubernetes writes it.
    const metrics: unknown[] = (hpa.apiVersion === 'autoscaling/v1' || !hpa.spec?.metrics ? [0] : hpa.spec.metrics).map(() => ({ type: '' }));
    currentMetrics = metrics;
    for (const m of resources) {
      try {
        if (m.name !== 'cpu' && m.name !== 'memory') throw new MetricsError(`no metrics returned from resource metrics API for ${m.name}`);
        const samples = await podResourceMetrics(store, nodes, pods, m.name);
        if (!samples.size) throw new MetricsError(`unable to get metrics for resource ${m.name}: no metrics returned from resource metrics API`);
        const r = resourceReplicas(current, m.target, m.name, pods, samples, now, calc);
        metrics[m.index] = ({ type: 'Resource', resource: { name: m.name, current: { ...(r.utilization !== undefined && { averageUtilization: r.utilization }), averageValue: quantity(m.name, r.averageValue) } } });
        if (m.name === 'cpu' && r.utilization !== undefined) cpuUtilization = r.utilization;
        if (r.replicas > best) { best = r.replicas; bestName = metricName(m); }
      } catch (e) {
        const what = m.target.type === 'Utilization' ? `${m.name} utilization` : `${m.name} usage`;
        errors.push(`failed to get ${what}: ${(e as Error).message}`);
        event('Warning', 'FailedGetResourceMetric', (e as Error).message);
      }
    }
    if (best < 0) {
      const message = `the HPA was unable to compute the replica count: ${errors[0] ?? 'no metrics'}`;
      event('Warning', 'FailedComputeMetricsReplicas', `invalid metrics (${errors.length} invalid out of ${resources.length + unsupported.length}), first error is: ${errors[0]}`);
      cond('ScalingActive', 'False', errors.some((e) => e.includes('not supported')) && !resources.length ? 'InvalidMetricSourceType' : 'FailedGetResourceMetric', message);
      return writeStatus({ currentReplicas: current, desiredReplicas: hpa.status?.desiredReplicas ?? current, lastScaleTime, currentMetrics, cpu: cpuUtilization });
    }
    // A metric that failed must not let the others scale down (it might have asked for more).
    if (errors.length && best < current) best = current;
    cond('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${bestName}`);
    desired = Math.max(best, 0);
    if (desired > current) rescaleReason = `${bestName} above target`;
    if (desired < current) rescaleReason = 'All metrics below target';
    const n = normalize({ current, desired, min, max, behavior: hpa.spec?.behavior, now: now.getTime(), downscaleWindowSeconds }, history);
    desired = n.replicas;
    cond('AbleToScale', 'True', n.ableToScale.reason, n.ableToScale.message);
    cond('ScalingLimited', n.limited.status, n.limited.reason, n.limited.message);
  }

  let scaledAt = lastScaleTime;
  if (desired !== current) {
    const next = structuredClone(target);
    next.spec = { ...next.spec, replicas: desired };
    try {
      await store.update(next);
    } catch (e) {
      cond('AbleToScale', 'False', 'FailedUpdateScale', `the HPA controller was unable to update the target scale: ${(e as Error).message}`);
      event('Warning', 'FailedRescale', `New size: ${desired}; reason: ${rescaleReason}; error: ${(e as Error).message}`);
      await writeStatus({ currentReplicas: current, desiredReplicas: desired, lastScaleTime, currentMetrics, cpu: cpuUtilization });
      throw e;
    }
    cond('AbleToScale', 'True', 'SucceededRescale', `the HPA controller was able to update the target scale to ${desired}`);
    event('Normal', 'SuccessfulRescale', `New size: ${desired}; reason: ${rescaleReason}`);
    recordScale(history, current, desired, now.getTime(), hpa.spec?.behavior);
    scaledAt = stamp;
  }
  await writeStatus({ currentReplicas: current, desiredReplicas: desired, lastScaleTime: scaledAt, currentMetrics, cpu: cpuUtilization });
}
