// A revision reviewed against a state: validation, the plan with readable diffs, rollout impact, scheduling
// feasibility and reviewer warnings (each one new or already there), as one PlanReport. Pure: the caller loads the
// revision and the state.
import type { Issue } from '../model/issue.ts';
import type { KubeObject } from '../model/object.ts';
import { gitKinds } from '../model/kinds.ts';
import { objectKey } from '../model/key.ts';
import type { LoadResult } from '../manifests/types.ts';
import { makePlan } from '../plan/plan.ts';
import { dataDeletions } from '../plan/data-deletion.ts';
import type { LiveState } from './live-state.ts';
import { PLAN_REPORT_VERSION, type Against, type Change, type PlanReport, type ReviewWarning } from './report.ts';
import { changeDiff } from './yaml-diff.ts';
import { rolloutImpacts } from './rollout-impact.ts';
import { schedulingFeasibility } from './feasibility.ts';
import { objectWarnings, stateWarnings } from './warnings.ts';
import { byPlace } from './warning-at.ts';
import { appliedFromGit } from './applied-from-git.ts';
import { markPreexisting, type Before } from './preexisting.ts';

export interface ReviewInput {
  ref: PlanReport['ref'];
  against: Against;
  /** The revision's desired state as `serve` loads it (loadDesired): objects, errors and warnings. */
  loaded: LoadResult;
  live: LiveState;
  /**
   * The base revision as loaded, when `live` stands for one: its warnings are the ones already there. Without it, the
   * live objects git applied (the inventory) are what was there.
   */
  before?: LoadResult;
  /** The whole commit message: its trailers may confirm data deletions. */
  message?: string;
}

const manifestWarning = (i: Issue): ReviewWarning => ({
  code: 'Manifest', kind: i.kind, name: i.name, file: i.file, line: i.line, column: i.column, field: i.field, message: i.message,
});

const loaderWarnings = (loaded: LoadResult) => loaded.issues.filter((i) => i.severity === 'warning').map(manifestWarning);

export function review({ ref, against, loaded, live, before, message }: ReviewInput): PlanReport {
  const errors = loaded.issues.filter((i) => i.severity === 'error');
  const warnings = loaderWarnings(loaded);
  const base = { apiVersion: PLAN_REPORT_VERSION, kind: 'PlanReport' as const, ref, against };
  if (errors.length) {
    // Nothing of an invalid revision would be applied: there is no plan to show, only what to fix.
    return {
      ...base, valid: false, schedulable: true, changed: false, errors, warnings: warnings.sort(byPlace),
      summary: { create: 0, update: 0, prune: 0, unchanged: 0 }, changes: [], rollouts: [],
      scheduling: { checked: false, reason: 'the revision is invalid', nodes: 0, unschedulable: [], resources: emptyResources() },
      dataDeletions: [],
    };
  }
  const kinds = new Set(gitKinds());
  const liveByKey = new Map(live.objects.filter((o) => kinds.has(o.kind)).map((o) => [objectKey(o), o] as const));
  const plan = makePlan({ desired: loaded.objects.map((d) => d.object), live: [...liveByKey.values()], inventory: live.inventory, remember: false });
  const where = new Map(loaded.objects.map((d) => [objectKey(d.object), d] as const));
  const changes: Change[] = plan.steps.map((s) => {
    const at = where.get(s.key);
    return {
      action: s.action as Change['action'], kind: s.kind, namespace: s.namespace, name: s.name,
      ...(at && s.action !== 'prune' ? { file: at.file, line: at.line } : {}),
      diff: changeDiff(s, liveByKey.get(s.key)),
      // A Secret's patch would carry its values: the diff shows that they changed, never what they are.
      ...(s.patch && s.kind !== 'Secret' ? { patch: s.patch } : {}),
    };
  });
  const changed = new Set(plan.steps.filter((s) => s.action !== 'prune').map((s) => s.key));
  const own = [...where].map(([key, d]) => ({ key, warnings: objectWarnings(d) }));
  const scheduling = schedulingFeasibility(plan, live);
  const deletions = dataDeletions(plan, [...liveByKey.values()], message ?? ref.message);
  const stalls: ReviewWarning[] = (scheduling.stalls ?? []).map((s) => ({
    code: 'RolloutMayStall', kind: s.kind, namespace: s.namespace, name: s.name, message: s.message,
    ...placeOf(where.get(keyOfWorkload(loaded.objects.map((d) => d.object), s))),
  }));
  // Replicas a HorizontalPodAutoscaler owns are not drift: say who owns them instead.
  const autoscaled: ReviewWarning[] = plan.autoscaled.map((a) => ({
    code: 'ReplicasOwnedByAutoscaler', kind: a.kind, namespace: a.namespace, name: a.name, field: 'spec.replicas',
    message: `replicas owned by HorizontalPodAutoscaler ${a.hpa} (git says ${a.git ?? 'nothing'}, it runs ${a.live}): kept`,
    ...placeOf(where.get(a.key)),
  }));
  return {
    ...base,
    valid: true,
    schedulable: !scheduling.checked || scheduling.unschedulable.length === 0,
    changed: plan.steps.length > 0,
    errors: [],
    warnings: markPreexisting([...warnings, ...stateWarnings(loaded.objects, live), ...own.flatMap((o) => o.warnings), ...stalls, ...autoscaled],
      warningsBefore(live, before, own, changed), { desired: loaded.objects, keys: changed }).sort(byPlace),
    summary: { create: plan.create, update: plan.update, prune: plan.prune, unchanged: plan.unchanged },
    changes,
    rollouts: rolloutImpacts(plan, live),
    scheduling,
    dataDeletions: deletions,
  };
}

/**
 * The warnings of the state compared with, reviewed against that same state: a base revision's objects (its loader
 * warnings too), or the live objects git applied. An object there that the plan leaves as it is had the warnings of
 * its own that the revision's object has (`own`): taken from there, not worked out again for every unchanged object
 * (a third of a 10,000-object review's warnings work).
 */
function warningsBefore(live: LiveState, base: LoadResult | undefined, own: { key: string; warnings: ReviewWarning[] }[], changed: ReadonlySet<string>): Before {
  const objects = base ? base.objects : appliedFromGit(live);
  const warnings = stateWarnings(objects, live);
  const there = new Set<string>();
  for (const d of objects) {
    const key = objectKey(d.object);
    there.add(key);
    if (changed.has(key)) warnings.push(...objectWarnings(d));
  }
  for (const o of own) if (there.has(o.key) && !changed.has(o.key)) warnings.push(...o.warnings);
  return { warnings, ...(base && { manifest: loaderWarnings(base) }) };
}

/** 0 valid, 1 invalid or unschedulable (do not merge), 2 valid with changes when `detailed` (Terraform's -detailed-exitcode). */
export function exitCodeOf(report: PlanReport, detailed: boolean): number {
  if (!report.valid || !report.schedulable || unconfirmedDeletions(report).length) return 1;
  return detailed && report.changed ? 2 : 0;
}

function emptyResources(): PlanReport['scheduling']['resources'] {
  const zero = () => ({ allocatable: 0, requestedBefore: 0, requestedAfter: 0 });
  return { cpu: zero(), memory: zero(), pods: zero() };
}

function keyOfWorkload(desired: KubeObject[], w: { kind: string; namespace?: string; name: string }): string {
  const o = desired.find((d) => d.kind === w.kind && (d.metadata.namespace ?? 'default') === (w.namespace ?? 'default') && d.metadata.name === w.name);
  return o ? objectKey(o) : '';
}

function placeOf(d: { file: string; line: number; column: number } | undefined) {
  return d ? { file: d.file, line: d.line, column: d.column } : {};
}

/** Data deletions the commit does not confirm: `serve` refuses the revision for them. */
export const unconfirmedDeletions = (report: PlanReport) => (report.dataDeletions ?? []).filter((d) => !d.confirmedBy);
