// Applies a plan to the store, step by step in plan order, and records a Kubernetes Event for each change.
import type { KubeObject } from '../model/object.ts';
import type { Plan, PlanStep } from '../plan/plan.ts';
import { owned } from '../plan/diff.ts';
import { StoreError, type Store } from '../store/store.ts';

/** Only what git owns is written (the same fields the plan compares): never status or server-set metadata. */
const forStore = (o: KubeObject) => structuredClone(owned(o)) as KubeObject;

/** What `kubectl rollout history` shows as CHANGE-CAUSE (the Deployment controller copies it to the ReplicaSet). */
export const CHANGE_CAUSE = 'kubernetes.io/change-cause';

/**
 * A Deployment or StatefulSet whose pod template this step sets or changes, without git giving or changing a change-cause of its
 * own (an update's object carries the live one over, so only the patch tells what git changed).
 */
function causesRollout(step: PlanStep): boolean {
  if (step.kind !== 'Deployment' && step.kind !== 'StatefulSet') return false;
  if (step.action === 'create') return step.object.metadata.annotations?.[CHANGE_CAUSE] === undefined;
  const paths = (step.patch ?? []).map((op) => op.path);
  return paths.some((p) => p.startsWith('/spec/template')) && !paths.some((p) => p.includes('kubernetes.io~1change-cause'));
}

async function applyStep(store: Store, step: PlanStep, cause: string): Promise<void> {
  const { kind, namespace, name } = step;
  if (step.action === 'prune') {
    await store.delete(kind, namespace, name);
    return;
  }
  const obj = forStore(step.object);
  // The commit that caused a new revision: `<sha7> <subject>`. Later updates keep it (a system annotation).
  if (causesRollout(step)) obj.metadata.annotations = { ...obj.metadata.annotations, [CHANGE_CAUSE]: cause };
  // The autoscaler may have rescaled since the plan was made: its latest count stands.
  if (step.replicasOwner && step.action === 'update') {
    const cur = await store.get(kind, namespace, name);
    if (typeof cur?.spec?.replicas === 'number') obj.spec = { ...obj.spec, replicas: cur.spec.replicas };
  }
  if (step.action === 'create') {
    try {
      await store.create(obj);
      return;
    } catch (e) {
      // Created meanwhile (e.g. by a controller): take it over with an update.
      if (!(e instanceof StoreError && e.reason === 'AlreadyExists')) throw e;
    }
  }
  await store.update(obj);
}

const REASONS = { create: 'Created', update: 'Updated', prune: 'Pruned' } as const;

/** `subject`: the commit message's first line, for the change-cause of the Deployments it rolls out. */
export async function applyPlan(store: Store, plan: Plan, revision: string, subject = ''): Promise<void> {
  const cause = `${revision.slice(0, 7)} ${subject.split('\n')[0]}`.trim();
  for (const step of plan.steps) {
    await applyStep(store, step, cause);
    const reason = REASONS[step.action as keyof typeof REASONS];
    await store.recordEvent(
      { apiVersion: step.object.apiVersion, kind: step.kind, namespace: step.namespace, name: step.name, uid: step.object.metadata.uid },
      'Normal',
      reason,
      `${reason.toLowerCase()} from git revision ${revision.slice(0, 7)}`,
    );
  }
}
