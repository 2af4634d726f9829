// Applies a plan to the store, step by step in plan order, and records a Kubernetes Event for each change.
import type { KubeObject } from '../model/object.ts';
import type { Plan, PlanStep } from '../plan/plan.ts';
import { owned } from '../plan/diff.ts';
import { StoreError, type Store } from '../store/store.ts';

/** Only what git owns is written (the same fields the plan compares): never status or server-set metadata. */
const forStore = (o: KubeObject) => structuredClone(owned(o)) as KubeObject;

async function applyStep(store: Store, step: PlanStep): Promise<void> {
  const { kind, namespace, name } = step;
  if (step.action === 'prune') {
    await store.delete(kind, namespace, name);
    return;
  }
  const obj = forStore(step.object);
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

export async function applyPlan(store: Store, plan: Plan, revision: string): Promise<void> {
  for (const step of plan.steps) {
    await applyStep(store, step);
    const reason = REASONS[step.action as keyof typeof REASONS];
    await store.recordEvent(
      { apiVersion: step.object.apiVersion, kind: step.kind, namespace: step.namespace, name: step.name, uid: step.object.metadata.uid },
      'Normal',
      reason,
      `${reason.toLowerCase()} from git revision ${revision.slice(0, 7)}`,
    );
  }
}
