// Rollout impact: for each workload the plan touches, whether its pods are replaced, how many, with which strategy,
// and whether a rollback reuses an existing ReplicaSet, with one sentence for the reviewer. Pure.
import { maxSurge, maxUnavailable } from '../controllers/rollout.ts';
import type { Plan } from '../plan/plan.ts';
import type { LiveState } from './live-state.ts';
import type { RolloutImpact } from './report.ts';
import { workloadChanges, type WorkloadChange } from './workload-change.ts';
import { statefulSetImpacts } from './statefulset-impact.ts';
import { daemonSetImpacts } from './daemonset-impact.ts';

export function rolloutImpacts(plan: Plan, live: LiveState): RolloutImpact[] {
  return [...workloadChanges(plan, live).map(impactOf), ...statefulSetImpacts(plan, live.objects), ...daemonSetImpacts(plan, live)];
}

function impactOf(c: WorkloadChange): RolloutImpact {
  const impact: RolloutImpact = {
    kind: c.kind, namespace: c.namespace, name: c.name, action: c.action,
    replicas: c.replicas, podsCreated: c.podsCreated, podsDeleted: c.podsDeleted, summary: '',
  };
  if (c.kind === 'Deployment' && c.action === 'replace' && !c.paused && c.params) {
    impact.strategy = c.params.strategy;
    if (c.params.strategy === 'RollingUpdate') {
      // Resolved against the desired replicas, as the Deployment controller does.
      impact.maxSurge = maxSurge(c.params);
      impact.maxUnavailable = maxUnavailable(c.params);
    }
  }
  if (c.reuses) impact.reuses = c.reuses;
  impact.summary = summaryOf(c, impact);
  return impact;
}

const pods = (n: number) => `${n} pod${n === 1 ? '' : 's'}`;

function summaryOf(c: WorkloadChange, i: RolloutImpact): string {
  switch (c.action) {
    case 'create':
      if (c.kind === 'Pod') return 'creates the pod';
      if (c.kind === 'Job' && !c.podsCreated) return 'creates no pods (suspended)';
      return c.podsCreated ? `creates ${pods(c.podsCreated)}` : 'creates no pods (replicas: 0)';
    case 'prune':
      if (c.kind === 'Pod') return c.podsDeleted ? 'deletes the pod' : 'deletes the pod (it no longer runs)';
      return c.podsDeleted ? `deletes it and its ${pods(c.podsDeleted)}` : 'deletes it; none of its pods run';
    case 'scale':
      return scaleSummary(c);
    case 'replace':
      if (c.kind === 'Pod') return podSummary(c);
      if (c.kind === 'Job') return jobSummary(c);
      if (c.kind === 'ReplicaSet') {
        return 'template changed: a ReplicaSet does not replace its running pods; only pods it creates from now on use the new template';
      }
      return rolloutSummary(c, i);
  }
}

function scaleSummary(c: WorkloadChange): string {
  const moves = [c.podsCreated && `starts ${pods(c.podsCreated)}`, c.podsDeleted && `stops ${pods(c.podsDeleted)}`].filter(Boolean);
  let s = `scales ${c.replicas.before} → ${c.replicas.after}: ${moves.length ? moves.join(', ') : 'no pods start or stop'}, none replaced`;
  if (c.templateChanged && c.kind === 'Deployment') s += '; the template change waits: the Deployment is paused (spec.paused)';
  if (c.templateChanged && c.kind === 'ReplicaSet') s += '; only new pods use the changed template: a ReplicaSet never replaces running pods';
  return s;
}

function rolloutSummary(c: WorkloadChange, i: RolloutImpact): string {
  if (c.paused) return 'template changed, but the Deployment is paused (spec.paused): no pods are replaced until it is resumed';
  const created = c.podsCreated, deleted = c.podsDeleted;
  let core: string;
  if (i.strategy === 'Recreate') {
    core = deleted
      ? `Recreate: stops all ${pods(deleted)} before starting ${created} new one${created === 1 ? '' : 's'}`
      : `Recreate: starts ${pods(created)}`;
  } else {
    const how = `RollingUpdate (maxSurge ${i.maxSurge}, maxUnavailable ${i.maxUnavailable})`;
    if (!created && !deleted) core = 'no pods run (replicas: 0); only the template changes';
    else if (!deleted) core = `starts ${pods(created)} of the new template, ${how}`;
    else if (created === deleted) core = `replaces ${pods(deleted)}, ${how}`;
    else core = `replaces ${pods(deleted)} with ${created}, ${how}`;
  }
  if (!c.reuses) return core;
  const to = c.reuses.revision ? `revision ${c.reuses.revision}` : 'an earlier template';
  const sep = i.strategy === 'Recreate' ? ';' : ',';
  return `rolls back to ${to}: scales ReplicaSet ${c.reuses.replicaSet} up again instead of creating one${sep} ${core}`;
}

function jobSummary(c: WorkloadChange): string {
  const running = c.keeps.length ? `; recreating it stops its ${pods(c.keeps.length)} running now` : '';
  return `pod template changed: Kubernetes refuses this update (a Job's spec.template is immutable); the Job must be deleted and created again (delete it first, or give it a new name) to run the new template${running}`;
}

function podSummary(c: WorkloadChange): string {
  const keeps = 'convergit stores the new spec, but the running pod keeps its old containers until it is deleted and created again (or convergit restarts)';
  return c.imageOnly
    ? `container image changed: Kubernetes would restart the container with the new image; ${keeps}`
    : `pod spec changed: Kubernetes would refuse this update; ${keeps}`;
}
