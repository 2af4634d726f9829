// Which pods a ReplicaSet deletes first when it has too many: Kubernetes' ActivePods ordering, so that scaling
// down removes the pods that serve least (not yet scheduled, starting, not ready, crashing, newest).
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { isPodReady } from '../model/pod.ts';
import { compareText } from '../model/compare-text.ts';

// Phases in the order they are given up; other phases count as Pending, as in Kubernetes.
const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

const time = (iso: string | undefined) => (iso ? Date.parse(iso) : undefined);

const maxRestarts = (pod: KubeObject) =>
  Math.max(0, ...((pod.status?.containerStatuses ?? []) as { restartCount?: number }[]).map((c) => c.restartCount ?? 0));

/** An empty time sorts first (it is the least established), then the later time. */
function laterFirst(a: number | undefined, b: number | undefined): number {
  if (a === b) return 0;
  if (a === undefined) return -1;
  if (b === undefined) return 1;
  return b - a;
}

/** Negative when `a` should be deleted before `b`. `rank`: how many of the pods share each one's node. */
export function compareForDeletion(a: KubeObject, b: KubeObject, rank?: (p: KubeObject) => number): number {
  // 1. Not yet bound to a node before bound.
  const boundA = a.spec?.nodeName ? 1 : 0, boundB = b.spec?.nodeName ? 1 : 0;
  if (boundA !== boundB) return boundA - boundB;
  // 2. Pending before Unknown before Running.
  const phaseA = PHASE_ORDER[a.status?.phase] ?? 0, phaseB = PHASE_ORDER[b.status?.phase] ?? 0;
  if (phaseA !== phaseB) return phaseA - phaseB;
  // 3. Not ready before ready.
  const readyA = isPodReady(a) ? 1 : 0, readyB = isPodReady(b) ? 1 : 0;
  if (readyA !== readyB) return readyA - readyB;
  // 4. Doubled up before alone: pods on a node crowded with their siblings go first, which keeps a workload spread.
  if (rank) {
    const crowd = rank(b) - rank(a);
    if (crowd !== 0) return crowd;
  }
  // 5. Both ready: ready for a shorter time first.
  if (readyA) {
    const since = laterFirst(time(getCondition(a.status?.conditions, 'Ready')?.lastTransitionTime), time(getCondition(b.status?.conditions, 'Ready')?.lastTransitionTime));
    if (since !== 0) return since;
  }
  // 6. More container restarts first.
  const restarts = maxRestarts(b) - maxRestarts(a);
  if (restarts !== 0) return restarts;
  // 7. Newest first.
  const age = laterFirst(time(a.metadata.creationTimestamp), time(b.metadata.creationTimestamp));
  if (age !== 0) return age;
  // Kubernetes leaves ties unordered; the name makes the choice repeatable.
  return compareText(a.metadata.name, b.metadata.name);
}

/** The `count` pods to delete, first choices first. Does not change `pods`. */
export function podsToDelete(pods: readonly KubeObject[], count: number): KubeObject[] {
  if (count <= 0) return [];
  const onNode = new Map<string, number>();
  for (const p of pods) if (p.spec?.nodeName) onNode.set(p.spec.nodeName, (onNode.get(p.spec.nodeName) ?? 0) + 1);
  const rank = (p: KubeObject) => (p.spec?.nodeName ? onNode.get(p.spec.nodeName)! : 0);
  return [...pods].sort((a, b) => compareForDeletion(a, b, rank)).slice(0, count);
}
