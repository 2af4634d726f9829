// Applies a plan to the store, step by step in plan order, and records Kubernetes Events of what it changed: one per
// object for a small sync, one per namespace summarising a big one (docs/engine.md, "Sync events").
import type { KubeObject } from '../model/object.ts';
import type { Plan, PlanStep } from '../plan/plan.ts';
import { owned } from '../plan/diff.ts';
import { StoreError, type Store } from '../store/store.ts';

/**
 * Only what git owns is written (the same fields the plan compares): never status or server-set metadata. owned()
 * makes a new top level and metadata, which is all applyStep sets; the store copies what it keeps.
 */
const forStore = (o: KubeObject) => owned(o) as KubeObject;

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
      await store.create(obj, { shared: true }); // the stored object, not a copy: nothing here reads it
      return;
    } catch (e) {
      // Created meanwhile (e.g. by a controller): take it over with an update.
      if (!(e instanceof StoreError && e.reason === 'AlreadyExists')) throw e;
    }
  }
  await store.update(obj, { shared: true });
}

const REASONS = { create: 'Created', update: 'Updated', prune: 'Pruned' } as const;

/**
 * Past this many changes a sync records one Event per namespace instead of one per object: a first sync of 10,000
 * objects made 10,000 Events (and, the store keeping 1,000, 9,000 deletions), which only pushed every other Event
 * out of `kubectl get events`. Kubernetes' own controllers and Argo CD record a sync, not each object of it.
 */
export const PER_OBJECT_EVENTS = 100;
/** Objects named in a namespace's summary before "and N more". */
const NAMED = 5;

/** `subject`: the commit message's first line, for the change-cause of the Deployments it rolls out. */
export async function applyPlan(store: Store, plan: Plan, revision: string, subject = ''): Promise<void> {
  const cause = `${revision.slice(0, 7)} ${subject.split('\n')[0]}`.trim();
  const perObject = plan.steps.length <= PER_OBJECT_EVENTS;
  for (const step of plan.steps) {
    await applyStep(store, step, cause);
    if (!perObject) continue;
    const reason = REASONS[step.action as keyof typeof REASONS];
    await store.recordEvent(
      { apiVersion: step.object.apiVersion, kind: step.kind, namespace: step.namespace, name: step.name, uid: step.object.metadata.uid },
      'Normal',
      reason,
      `${reason.toLowerCase()} from git revision ${revision.slice(0, 7)}`,
    );
  }
  if (!perObject) await recordSummaries(store, plan.steps, revision);
}

/**
 * One Normal `Synced` Event per namespace the sync changed (cluster-scoped objects count in `default`, where
 * Kubernetes records their Events), about that Namespace and stored in it, so `kubectl get events -n <ns>` shows it:
 * how many objects were created, updated and pruned, and the first few of them by name.
 */
async function recordSummaries(store: Store, steps: readonly PlanStep[], revision: string): Promise<void> {
  const byNs = new Map<string, PlanStep[]>();
  for (const s of steps) {
    const ns = s.namespace || 'default';
    const list = byNs.get(ns);
    if (list) list.push(s);
    else byNs.set(ns, [s]);
  }
  for (const [ns, list] of byNs) {
    const count = (a: PlanStep['action']) => list.filter((s) => s.action === a).length;
    const named = list.slice(0, NAMED).map((s) => `${s.kind}/${s.name}`).join(', ');
    const more = list.length > NAMED ? ` and ${list.length - NAMED} more` : '';
    await store.recordEvent(
      { apiVersion: 'v1', kind: 'Namespace', namespace: ns, name: ns },
      'Normal',
      'Synced',
      `git revision ${revision.slice(0, 7)}: ${count('create')} created, ${count('update')} updated, ${count('prune')} pruned (${named}${more}); `
        + `a sync of more than ${PER_OBJECT_EVENTS} changes records this summary instead of an Event per object`,
    );
  }
}
