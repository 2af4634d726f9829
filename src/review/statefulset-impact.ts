// Rollout impact of a StatefulSet change, as its controller would carry it out: which ordinals start, stop or roll
// to the new template (highest first, down to the partition; none under OnDelete), and which claims it creates.
// Pure.
import type { KubeObject } from '../model/object.ts';
import type { Plan } from '../plan/plan.ts';
import { canonical } from '../plan/canonical.ts';
import { maxUnavailableOf } from '../controllers/statefulset-replicas.ts';
import type { RolloutImpact } from './report.ts';

const range = (set: KubeObject | undefined): number[] => {
  if (!set) return [];
  const start = set.spec?.ordinals?.start ?? 0;
  return Array.from({ length: set.spec?.replicas ?? 1 }, (_, i) => start + i);
};
const list = (ns: number[]) => ns.join(', ');
const pods = (n: number) => `${n} pod${n === 1 ? '' : 's'}`;

export function statefulSetImpacts(plan: Plan, live: readonly KubeObject[]): RolloutImpact[] {
  const byKey = new Map(live.filter((o) => o.kind === 'StatefulSet').map((o) => [`${o.metadata.namespace ?? 'default'}/${o.metadata.name}`, o] as const));
  const out: RolloutImpact[] = [];
  for (const step of plan.steps) {
    if (step.kind !== 'StatefulSet') continue;
    const namespace = step.object.metadata.namespace ?? 'default';
    const before = step.action === 'create' ? undefined : byKey.get(`${namespace}/${step.name}`);
    const after = step.action === 'prune' ? undefined : step.object;
    const [was, will] = [range(before), range(after)];
    const added = will.filter((n) => !was.includes(n));
    const removed = was.filter((n) => !will.includes(n)).reverse();
    const changed = !!before && !!after && canonical(before.spec?.template) !== canonical(after.spec?.template);
    const base = { kind: 'StatefulSet', namespace, name: step.name, replicas: { before: was.length, after: will.length } };
    const ordered = after?.spec?.podManagementPolicy === 'Parallel' ? 'all at once (Parallel)' : 'in order, each once the one before is Ready (OrderedReady)';
    const claims = (after?.spec?.volumeClaimTemplates ?? []).map((t: KubeObject) => t.metadata?.name);
    const withClaims = claims.length ? `, each with its claim${claims.length === 1 ? '' : 's'} ${claims.map((c: string) => `${c}-${step.name}-<ordinal>`).join(', ')}` : '';
    if (step.action === 'create') {
      out.push({ ...base, action: 'create', podsCreated: will.length, podsDeleted: 0, ordinals: { added: will, removed: [], rolled: [], kept: [] },
        summary: will.length ? `creates ${pods(will.length)} ${step.name}-${will[0]}..${will[will.length - 1]} ${ordered}${withClaims}` : 'creates no pods (replicas: 0)' });
      continue;
    }
    if (step.action === 'prune') {
      out.push({ ...base, action: 'prune', podsCreated: 0, podsDeleted: was.length, ordinals: { added: [], removed, rolled: [], kept: [] },
        summary: `deletes it and its ${pods(was.length)}; its claims ${before?.spec?.persistentVolumeClaimRetentionPolicy?.whenDeleted === 'Delete' ? 'are deleted (whenDeleted: Delete)' : 'are kept (whenDeleted: Retain)'}` });
      continue;
    }
    if (!changed && !added.length && !removed.length) continue;
    const strategy = after!.spec?.updateStrategy ?? {};
    const onDelete = strategy.type === 'OnDelete';
    const partition = onDelete ? 0 : strategy.rollingUpdate?.partition ?? 0;
    const start = after!.spec?.ordinals?.start ?? 0;
    const staying = will.filter((n) => was.includes(n));
    const rolled = changed && !onDelete ? staying.filter((n) => n - start >= partition).reverse() : [];
    const kept = changed ? staying.filter((n) => !rolled.includes(n)) : [];
    const parts: string[] = [];
    if (added.length) parts.push(`starts ordinals ${list(added)}`);
    if (removed.length) parts.push(`stops ordinals ${list(removed)} (highest first)`);
    if (changed && onDelete) parts.push(`template changed: OnDelete replaces no running pod; ordinals ${list(staying)} move to it only when deleted`);
    else if (changed) {
      const how = `RollingUpdate (maxUnavailable ${maxUnavailableOf(after!)}${partition ? `, partition ${partition}` : ''})`;
      parts.push(rolled.length ? `rolls ordinals ${list(rolled)} to the new template, highest first, ${how}` : `template changed, but no running ordinal rolls: ${how}`);
      if (kept.length) parts.push(`ordinals ${list(kept)} stay at the current revision (below the partition)`);
    }
    out.push({
      ...base, action: changed ? 'replace' : 'scale', podsCreated: added.length + rolled.length, podsDeleted: removed.length + rolled.length,
      ...(changed && { strategy: onDelete ? 'OnDelete' : 'RollingUpdate', partition }),
      ordinals: { added, removed, rolled, kept }, summary: parts.join('; '),
    });
  }
  return out;
}
