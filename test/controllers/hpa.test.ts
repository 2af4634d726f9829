// The HorizontalPodAutoscaler's arithmetic, as Kubernetes' replica calculator and horizontal.go compute it: the
// tolerance, unready and missing pods, behavior policies and the stabilisation window; and the plan keeping the
// replicas an HPA owns. (Its health: fixtures/health/hpa-*.yaml.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { KubeObject } from '../../src/model/object.ts';
import { resourceReplicas, type PodMetric } from '../../src/controllers/hpa-replica-calculator.ts';
import { emptyHistory, normalize, recordScale, type Behavior } from '../../src/controllers/hpa-behavior.ts';
import { metricSpecs } from '../../src/controllers/hpa.ts';
import { makePlan } from '../../src/plan/plan.ts';

const NOW = new Date('2024-05-01T12:00:00Z');
const LONG_AGO = '2024-05-01T10:00:00Z';

/** A pod requesting `cpu` cores and `memory` of its one container; Running and ready for hours unless said. */
function pod(name: string, opts: { phase?: string; ready?: boolean; cpu?: string; memory?: string; started?: string } = {}): KubeObject {
  const requests: Record<string, string> = {};
  if (opts.cpu !== '') requests.cpu = opts.cpu ?? '1';
  if (opts.memory) requests.memory = opts.memory;
  return {
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { containers: [{ name: 'c', resources: { requests } }] },
    status: {
      phase: opts.phase ?? 'Running', startTime: opts.started ?? LONG_AGO,
      conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True', lastTransitionTime: opts.started ?? LONG_AGO }],
    },
  };
}
const sample = (value: number, at = NOW): PodMetric => ({ value, timestamp: at, windowMs: 15_000 });
const samples = (entries: Record<string, number>) => new Map(Object.entries(entries).map(([k, v]) => [k, sample(v)]));
const cpu50 = { type: 'Utilization' as const, averageUtilization: 50 };

test('replica calculator: utilization over the target scales by the ratio; within the 0.1 tolerance nothing changes', () => {
  const pods = [pod('a'), pod('b'), pod('c')];
  const r = resourceReplicas(3, cpu50, 'cpu', pods, samples({ a: 0.9, b: 0.9, c: 0.9 }), NOW);
  assert.equal([r.replicas, r.utilization], [6, 90], 'ceil(1.8 × 3)');
  assert.is(resourceReplicas(3, cpu50, 'cpu', pods, samples({ a: 0.52, b: 0.52, c: 0.52 }), NOW).replicas, 3, '52 % of a 50 % target is within tolerance');
  assert.is(resourceReplicas(3, cpu50, 'cpu', pods, samples({ a: 0.1, b: 0.1, c: 0.1 }), NOW).replicas, 1, 'ceil(0.2 × 3)');
});

test('replica calculator: unready pods count as using nothing on a scale-up, missing ones as their request on a scale-down', () => {
  const ready = [pod('a'), pod('b')];
  const pending = [pod('p1', { phase: 'Pending' }), pod('p2', { phase: 'Pending' })];
  // 100 % of requests on the two ready pods. Target 50 %: the pending pods' zeros bring the ratio to 1, no change
  // (not ceil(2 × 2) = 4 more). Target 25 %: (1+1+0+0)/4 = 50 % → ceil(2 × 4) = 8.
  assert.is(resourceReplicas(4, cpu50, 'cpu', [...ready, ...pending], samples({ a: 1, b: 1 }), NOW).replicas, 4);
  assert.is(resourceReplicas(4, { type: 'Utilization', averageUtilization: 25 }, 'cpu', [...ready, ...pending], samples({ a: 1, b: 1 }), NOW).replicas, 8);
  // A pod not ready yet that just started is left out too (cpu only).
  const fresh = pod('f', { ready: false, started: new Date(NOW.getTime() - 10_000).toISOString() });
  assert.is(resourceReplicas(3, cpu50, 'cpu', [...ready, fresh], samples({ a: 1, b: 1, f: 1 }), NOW).replicas, 4, 'f\'s own sample is left out: (1+1+0)/3 = 66 % → ceil(1.32 × 3) = 4, not 6');
});

test('replica calculator: missing metrics on a scale-down, AverageValue targets, and what cannot be computed', () => {
  const four = [pod('a'), pod('b'), pod('c'), pod('m')];
  // Without m: 10 % → 0.2 × 3 = 1 pod. With m taken as 100 % of its request: 32 % → ceil(0.64 × 4) = 3.
  assert.is(resourceReplicas(4, cpu50, 'cpu', four, samples({ a: 0.1, b: 0.1, c: 0.1 }), NOW).replicas, 3);
  const mem = [pod('a', { memory: '64Mi' }), pod('b', { memory: '64Mi' })];
  const r = resourceReplicas(2, { type: 'AverageValue', averageValue: 100 * 2 ** 20 }, 'memory', mem, samples({ a: 150 * 2 ** 20, b: 250 * 2 ** 20 }), NOW);
  assert.equal([r.replicas, r.averageValue, r.utilization], [4, 200 * 2 ** 20, undefined]);
  assert.throws(() => resourceReplicas(1, cpu50, 'cpu', [pod('x', { cpu: '' })], samples({ x: 1 }), NOW), /missing request for cpu in container c of Pod x/);
  assert.throws(() => resourceReplicas(1, cpu50, 'cpu', [], new Map(), NOW), /no pods returned by selector/);
});

test('behavior: default scale-up rate (4 pods or 100 % per 15 s), min/max, and the conditions they set', () => {
  const up = normalize({ current: 2, desired: 20, min: 1, max: 10, behavior: {}, now: 0 }, emptyHistory());
  assert.equal([up.replicas, up.limited.status, up.limited.reason], [6, 'True', 'ScaleUpLimit']);
  const capped = normalize({ current: 8, desired: 20, min: 1, max: 10, behavior: {}, now: 0 }, emptyHistory());
  assert.equal([capped.replicas, capped.limited.reason], [10, 'TooManyReplicas']);
  const floor = normalize({ current: 3, desired: 1, min: 2, max: 10, behavior: { scaleDown: { stabilizationWindowSeconds: 0 } }, now: 0 }, emptyHistory());
  assert.equal([floor.replicas, floor.limited.reason], [2, 'TooFewReplicas']);
  const within = normalize({ current: 3, desired: 4, min: 1, max: 10, behavior: {}, now: 0 }, emptyHistory());
  assert.equal([within.replicas, within.limited.status, within.limited.reason, within.ableToScale.reason], [4, 'False', 'DesiredWithinRange', 'ReadyForNewScale']);
  // Without behavior: at most max(2 × current, 4).
  assert.is(normalize({ current: 3, desired: 20, min: 1, max: 10, behavior: undefined, now: 0 }, emptyHistory()).replicas, 6);
  const disabled: Behavior = { scaleUp: { selectPolicy: 'Disabled' } };
  assert.is(normalize({ current: 3, desired: 9, min: 1, max: 10, behavior: disabled, now: 0 }, emptyHistory()).replicas, 3);
});

test('stabilisation window: the highest recommendation of the scale-down window holds the count up until it passes', () => {
  const h = emptyHistory();
  const b: Behavior = { scaleDown: { stabilizationWindowSeconds: 60 } };
  assert.is(normalize({ current: 5, desired: 5, min: 1, max: 10, behavior: b, now: 0 }, h).replicas, 5);
  const held = normalize({ current: 5, desired: 2, min: 1, max: 10, behavior: b, now: 30_000 }, h);
  assert.equal([held.replicas, held.ableToScale.reason], [5, 'ScaleDownStabilized']);
  assert.is(normalize({ current: 5, desired: 2, min: 1, max: 10, behavior: b, now: 61_000 }, h).replicas, 2, 'the 5 left the window');
  // The default scale-down window is 300 s (or the controller's flag).
  const d = emptyHistory();
  normalize({ current: 5, desired: 5, min: 1, max: 10, behavior: undefined, now: 0 }, d);
  assert.is(normalize({ current: 5, desired: 1, min: 1, max: 10, behavior: undefined, now: 299_000 }, d).replicas, 5);
  assert.is(normalize({ current: 5, desired: 1, min: 1, max: 10, behavior: undefined, now: 301_000 }, d).replicas, 1);
});

test('scaling policies count the scale events of their period', () => {
  const b: Behavior = { scaleDown: { stabilizationWindowSeconds: 0, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] } };
  const h = emptyHistory();
  const first = normalize({ current: 5, desired: 1, min: 1, max: 10, behavior: b, now: 0 }, h);
  assert.equal([first.replicas, first.limited.reason], [4, 'ScaleDownLimit']);
  recordScale(h, 5, 4, 0, b);
  assert.is(normalize({ current: 4, desired: 1, min: 1, max: 10, behavior: b, now: 10_000 }, h).replicas, 4, 'the period already removed one');
  assert.is(normalize({ current: 4, desired: 1, min: 1, max: 10, behavior: b, now: 61_000 }, h).replicas, 3, 'a new period');
  const pct: Behavior = { scaleUp: { policies: [{ type: 'Percent', value: 50, periodSeconds: 60 }, { type: 'Pods', value: 1, periodSeconds: 60 }], selectPolicy: 'Min' } };
  assert.is(normalize({ current: 4, desired: 10, min: 1, max: 10, behavior: pct, now: 0 }, emptyHistory()).replicas, 5, 'Min: +1 rather than +50 %');
});

test('metric specs: v2 Resource metrics, the cpu 80 % default, v1 targetCPUUtilizationPercentage, unsupported types named', () => {
  const v2 = (metrics?: unknown[]) => ({ apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' }, spec: { maxReplicas: 3, ...(metrics && { metrics }) } }) as KubeObject;
  assert.equal(metricSpecs(v2()).resources, [{ name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 }, index: 0 }]);
  const m = metricSpecs(v2([{ type: 'Resource', resource: { name: 'memory', target: { type: 'AverageValue', averageValue: '64Mi' } } }, { type: 'Pods', pods: {} }]));
  assert.equal(m.resources, [{ name: 'memory', target: { type: 'AverageValue', averageValue: 64 * 2 ** 20 }, index: 0 }]);
  assert.equal(m.unsupported, ['Pods']);
  const v1 = { apiVersion: 'autoscaling/v1', kind: 'HorizontalPodAutoscaler', metadata: { name: 'h' }, spec: { maxReplicas: 3, targetCPUUtilizationPercentage: 40 } } as KubeObject;
  assert.equal(metricSpecs(v1).resources, [{ name: 'cpu', target: { type: 'Utilization', averageUtilization: 40 }, index: 0 }]);
});

test('plan: an HPA owns its target\'s replicas: other changes apply, replicas stay as the HPA set them, and the plan says so', () => {
  const deploy = (replicas: number, image: string): KubeObject => ({
    apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'default' },
    spec: { replicas, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'c', image }] } } },
  });
  const hpa: KubeObject = { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'web-hpa', namespace: 'default' }, spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5 } };
  const live = [deploy(4, 'v1'), hpa];
  const inventory = ['apps/Deployment/default/web', 'autoscaling/HorizontalPodAutoscaler/default/web-hpa'];
  const plan = makePlan({ desired: [deploy(2, 'v2'), hpa], live, inventory });
  const step = plan.steps.find((s) => s.kind === 'Deployment')!;
  assert.is(step.object.spec.replicas, 4);
  assert.is(step.replicasOwner, 'web-hpa');
  assert.ok(step.patch!.every((op) => !op.path.startsWith('/spec/replicas')), JSON.stringify(step.patch));
  assert.equal(plan.autoscaled.map((a) => [a.name, a.hpa, a.git, a.live]), [['web', 'web-hpa', 2, 4]]);
  // Only the replicas differ: nothing to do.
  assert.equal(makePlan({ desired: [deploy(2, 'v1'), hpa], live, inventory }).steps, []);
  // Without the HPA git's count applies again.
  assert.is(makePlan({ desired: [deploy(2, 'v1')], live, inventory }).steps.find((s) => s.kind === 'Deployment')!.object.spec.replicas, 2);
});

test.run();
