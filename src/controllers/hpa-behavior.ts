// What the HorizontalPodAutoscaler makes of a recommendation, as Kubernetes' horizontal.go does: the stabilisation
// window (the highest recommendation of the scale-down window, the lowest of the scale-up window, bound the new
// count) and the scaling policies (at most so many pods or percent per period, counted from the scale events of
// that period; selectPolicy Max, Min or Disabled), then minReplicas/maxReplicas, with the reasons the conditions
// AbleToScale and ScalingLimited carry. Without `behavior` the older rules apply: a 300 s scale-down window and a
// scale-up of at most max(2 × current, 4). Pure but for the history it is given, which the controller keeps in memory.

export interface ScalingPolicy { type: 'Pods' | 'Percent'; value: number; periodSeconds: number }
export interface ScalingRules { stabilizationWindowSeconds?: number; selectPolicy?: 'Max' | 'Min' | 'Disabled'; policies?: ScalingPolicy[] }
export interface Behavior { scaleUp?: ScalingRules; scaleDown?: ScalingRules }

/** Kubernetes' defaults (autoscaling/v2 SetDefaults_HorizontalPodAutoscalerBehavior); scale-down's window is the controller's flag. */
export function withDefaults(b: Behavior | undefined, downscaleWindowSeconds = 300): Required<{ scaleUp: Required<ScalingRules>; scaleDown: Required<ScalingRules> }> {
  const up = b?.scaleUp ?? {};
  const down = b?.scaleDown ?? {};
  return {
    scaleUp: {
      stabilizationWindowSeconds: up.stabilizationWindowSeconds ?? 0,
      selectPolicy: up.selectPolicy ?? 'Max',
      policies: up.policies ?? [{ type: 'Pods', value: 4, periodSeconds: 15 }, { type: 'Percent', value: 100, periodSeconds: 15 }],
    },
    scaleDown: {
      stabilizationWindowSeconds: down.stabilizationWindowSeconds ?? downscaleWindowSeconds,
      selectPolicy: down.selectPolicy ?? 'Max',
      policies: down.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
    },
  };
}

export interface TimedRecommendation { replicas: number; at: number }
/** A change of scale this controller made: + for up, − for down. */
export interface ScaleEvent { change: number; at: number }

/** What the controller remembers of one HPA between syncs (Kubernetes keeps it in memory too). */
export interface History { recommendations: TimedRecommendation[]; scaleUps: ScaleEvent[]; scaleDowns: ScaleEvent[] }
export const emptyHistory = (): History => ({ recommendations: [], scaleUps: [], scaleDowns: [] });

export interface Reason { reason: string; message: string }
export interface Normalized {
  replicas: number;
  /** For AbleToScale (True): the stabilisation's verdict. */
  ableToScale: Reason;
  /** For ScalingLimited: True when the limits changed the count. */
  limited: Reason & { status: 'True' | 'False' };
}

export interface NormalizeArgs {
  current: number;
  desired: number;
  min: number;
  max: number;
  behavior: Behavior | undefined;
  now: number;
  downscaleWindowSeconds?: number;
}

/** The replicas changed within the last `periodSeconds` by these events. */
const changedIn = (events: ScaleEvent[], periodSeconds: number, now: number) =>
  events.filter((e) => e.at > now - periodSeconds * 1000).reduce((n, e) => n + Math.abs(e.change), 0);

export function scaleUpLimit(current: number, h: History, rules: Required<ScalingRules>, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.min : Math.max;
  let result = rules.selectPolicy === 'Min' ? Infinity : -Infinity;
  for (const p of rules.policies) {
    const start = current - changedIn(h.scaleUps, p.periodSeconds, now) + changedIn(h.scaleDowns, p.periodSeconds, now);
    result = pick(result, p.type === 'Pods' ? start + p.value : Math.ceil(start * (1 + p.value / 100)));
  }
  return result;
}

export function scaleDownLimit(current: number, h: History, rules: Required<ScalingRules>, now: number): number {
  if (rules.selectPolicy === 'Disabled') return current;
  const pick = rules.selectPolicy === 'Min' ? Math.max : Math.min;
  let result = rules.selectPolicy === 'Min' ? -Infinity : Infinity;
  for (const p of rules.policies) {
    const start = current - changedIn(h.scaleUps, p.periodSeconds, now) + changedIn(h.scaleDowns, p.periodSeconds, now);
    result = pick(result, p.type === 'Pods' ? start - p.value : Math.trunc(start * (1 - p.value / 100)));
  }
  return result;
}

const STABILIZED_UP = { reason: 'ScaleUpStabilized', message: 'recent recommendations were lower than current one, applying the lowest recent recommendation' };
const STABILIZED_DOWN = { reason: 'ScaleDownStabilized', message: 'recent recommendations were higher than current one, applying the highest recent recommendation' };
const READY = { reason: 'ReadyForNewScale', message: 'recommended size matches current size' };
const WITHIN = { reason: 'DesiredWithinRange', message: 'the desired count is within the acceptable range' };

/** Records the recommendation and returns the count to scale to. Changes `h` (recommendations only). */
export function normalize(a: NormalizeArgs, h: History): Normalized {
  return a.behavior ? withBehavior(a, h) : withoutBehavior(a, h);
}

function withBehavior(a: NormalizeArgs, h: History): Normalized {
  const b = withDefaults(a.behavior, a.downscaleWindowSeconds);
  const upCutoff = a.now - b.scaleUp.stabilizationWindowSeconds * 1000;
  const downCutoff = a.now - b.scaleDown.stabilizationWindowSeconds * 1000;
  let up = a.desired, down = a.desired;
  for (const r of h.recommendations) {
    if (r.at > upCutoff) up = Math.min(up, r.replicas);
    if (r.at > downCutoff) down = Math.max(down, r.replicas);
  }
  const stabilized = Math.min(Math.max(a.current, up), down);
  remember(h, a.desired, a.now, Math.max(b.scaleUp.stabilizationWindowSeconds, b.scaleDown.stabilizationWindowSeconds));
  const ableToScale = stabilized !== a.desired ? (a.desired >= a.current ? STABILIZED_UP : STABILIZED_DOWN) : READY;

  let replicas = stabilized;
  let limit: Reason = WITHIN;
  if (stabilized > a.current) {
    const upLimit = Math.max(scaleUpLimit(a.current, h, b.scaleUp, a.now), a.current);
    const allowed = Math.min(a.max, upLimit);
    if (stabilized > allowed) {
      replicas = allowed;
      limit = a.max > upLimit
        ? { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }
        : { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
    }
  } else if (stabilized < a.current) {
    const downLimit = Math.min(scaleDownLimit(a.current, h, b.scaleDown, a.now), a.current);
    const allowed = Math.max(a.min, downLimit);
    if (stabilized < allowed) {
      replicas = allowed;
      limit = a.min < downLimit
        ? { reason: 'ScaleDownLimit', message: 'the desired replica count is decreasing faster than the maximum scale rate' }
        : { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
    }
  }
  return { replicas, ableToScale, limited: { ...limit, status: replicas === stabilized ? 'False' : 'True' } };
}

/** Kubernetes' normalizeDesiredReplicas, for an HPA without `behavior`. */
function withoutBehavior(a: NormalizeArgs, h: History): Normalized {
  const windowSeconds = a.downscaleWindowSeconds ?? 300;
  const cutoff = a.now - windowSeconds * 1000;
  let stabilized = a.desired;
  for (const r of h.recommendations) if (r.at > cutoff) stabilized = Math.max(stabilized, r.replicas);
  remember(h, a.desired, a.now, windowSeconds);
  const ableToScale = stabilized !== a.desired ? STABILIZED_DOWN : READY;
  const upLimit = Math.max(2 * a.current, 4);
  let replicas = stabilized;
  let limit: Reason = WITHIN;
  if (stabilized > Math.min(a.max, upLimit)) {
    replicas = Math.min(a.max, upLimit);
    limit = upLimit < a.max
      ? { reason: 'ScaleUpLimit', message: 'the desired replica count is increasing faster than the maximum scale rate' }
      : { reason: 'TooManyReplicas', message: 'the desired replica count is more than the maximum replica count' };
  } else if (stabilized < a.min) {
    replicas = a.min;
    limit = { reason: 'TooFewReplicas', message: 'the desired replica count is less than the minimum replica count' };
  }
  return { replicas, ableToScale, limited: { ...limit, status: replicas === stabilized ? 'False' : 'True' } };
}

/** Keeps the recommendations the windows can still see, plus this one. */
function remember(h: History, replicas: number, now: number, windowSeconds: number): void {
  h.recommendations = h.recommendations.filter((r) => r.at > now - windowSeconds * 1000);
  h.recommendations.push({ replicas, at: now });
}

/** After a rescale: the event the rate limits count (kept as long as the longest policy period). */
export function recordScale(h: History, from: number, to: number, now: number, behavior: Behavior | undefined): void {
  const b = withDefaults(behavior);
  const longest = (r: Required<ScalingRules>) => Math.max(0, ...r.policies.map((p) => p.periodSeconds)) * 1000;
  h.scaleUps = h.scaleUps.filter((e) => e.at > now - longest(b.scaleUp));
  h.scaleDowns = h.scaleDowns.filter((e) => e.at > now - longest(b.scaleDown));
  if (to > from) h.scaleUps.push({ change: to - from, at: now });
  else if (to < from) h.scaleDowns.push({ change: from - to, at: now });
}
