// What a plan does to each workload's pods once it has rolled out: which live pods stop, which stay, and how many
// new ones start from which template. Shared by the rollout impact (counts, for people) and the scheduling
// feasibility (the pods themselves, for the scheduler). Pure.
import type { KubeObject } from '../model/object.ts';
import { isPodActive } from '../model/pod.ts';
import { equalIgnoreHash } from '../controllers/pod-template-hash.ts';
import { byCreation, paramsOf, REVISION_ANNOTATION, viewOf, type RolloutParams } from '../controllers/rollout.ts';
import { podsToDelete } from '../controllers/scale-down.ts';
import { jobParams } from '../controllers/job-params.ts';
import type { Plan, PlanStep } from '../plan/plan.ts';
import type { LiveState } from './live-state.ts';
import { activePodsOf, controlledBy, liveIndex, type LiveIndex } from './live-index.ts';
import { podTemplateOf, type PodTemplate } from './pod-templates.ts';
import type { RolloutImpact } from './report.ts';

export interface WorkloadChange {
  kind: 'Deployment' | 'ReplicaSet' | 'Pod' | 'Job';
  namespace: string;
  name: string;
  action: RolloutImpact['action'];
  replicas: { before: number; after: number };
  /** Pods started and stopped: counted from the live pods when they are known, else from replica counts. */
  podsCreated: number;
  podsDeleted: number;
  /** Live active pods this change stops, and those it keeps (both empty when pods are not known). */
  stops: KubeObject[];
  keeps: KubeObject[];
  /** The template new pods are made from, and the uid of the live ReplicaSet that would own them. */
  template?: PodTemplate;
  owner?: string;
  /** The pod template changes (for a Deployment: compared with its live template, ignoring pod-template-hash). */
  templateChanged: boolean;
  /** Deployment: the desired rollout parameters, defaults applied. */
  params?: RolloutParams;
  /** Deployment: spec.paused, so a template change does not roll out. */
  paused?: boolean;
  /** Deployment: the live ReplicaSet whose template is the new one (a rollback scales it up again). */
  reuses?: { replicaSet: string; revision?: string };
  /** Bare Pod whose spec changed: the object stored once applied (status and binding as live), and whether only images changed. */
  stored?: KubeObject;
  imageOnly?: boolean;
}

type Kind = WorkloadChange['kind'];
const WORKLOADS = new Set<string>(['Deployment', 'ReplicaSet', 'Pod', 'Job']);

/** Pods it runs at once: a Job's parallelism, bounded by its completions (none while suspended). */
function replicasOf(o: KubeObject): number {
  if (o.kind === 'Pod') return 1;
  if (o.kind === 'Job') {
    const p = jobParams(o.spec);
    return p.suspend ? 0 : Math.min(p.parallelism, p.completions ?? p.parallelism);
  }
  return o.spec?.replicas ?? 1;
}

/** Each workload step of the plan (create, update that changes pods, prune) as a change to its pods, in plan order. */
export function workloadChanges(plan: Plan, live: LiveState): WorkloadChange[] {
  const index = liveIndex(live.objects);
  const out: WorkloadChange[] = [];
  for (const step of plan.steps) {
    if (!WORKLOADS.has(step.kind)) continue;
    const change = changeOf(step, index, live.nodesKnown);
    if (change) out.push(change);
  }
  return out;
}

function changeOf(step: PlanStep, index: LiveIndex, podsKnown: boolean): WorkloadChange | undefined {
  const base = { kind: step.kind as Kind, namespace: step.namespace ?? 'default', name: step.name, stops: [], keeps: [], templateChanged: false };
  const o = step.object;
  const params = o.kind === 'Deployment' ? paramsOf(o.spec) : undefined;
  if (step.action === 'create') {
    const after = replicasOf(o);
    return { ...base, action: 'create', replicas: { before: 0, after }, podsCreated: after, podsDeleted: 0, template: podTemplateOf(o), params };
  }
  if (step.action === 'prune') {
    // A pod knows its own state; a workload's pods are known only with the live pods (else: its status, or spec).
    const pods = podsKnown || o.kind === 'Pod' ? activePodsOf(index, o) : undefined;
    const deleted = pods?.length ?? o.status?.replicas ?? replicasOf(o);
    return { ...base, action: 'prune', replicas: { before: replicasOf(o), after: 0 }, podsCreated: 0, podsDeleted: deleted, stops: pods ?? [] };
  }
  const live = index.byKey.get(step.key);
  if (step.action !== 'update' || !live) return undefined;
  if (o.kind === 'Pod') return podUpdate(base, o, live);
  if (o.kind === 'Job') return jobUpdate(base, o, live, index);
  if (o.kind === 'ReplicaSet') return replicaSetUpdate(base, o, live, index, podsKnown);
  return deploymentUpdate(base, o, live, index, podsKnown, params!);
}

type Base = Pick<WorkloadChange, 'kind' | 'namespace' | 'name' | 'stops' | 'keeps' | 'templateChanged'>;

/** Of `current` (pods of the target template), the ones kept for `after` replicas and the excess Kubernetes would delete first. */
function trim(current: KubeObject[], after: number): { keeps: KubeObject[]; excess: KubeObject[] } {
  const excess = podsToDelete(current, current.length - after);
  return { keeps: current.filter((p) => !excess.includes(p)), excess };
}

function deploymentUpdate(base: Base, d: KubeObject, live: KubeObject, index: LiveIndex, podsKnown: boolean, params: RolloutParams): WorkloadChange | undefined {
  const before = replicasOf(live), after = replicasOf(d);
  const paused = !!d.spec?.paused;
  const templateChanged = !equalIgnoreHash(d.spec?.template, live.spec?.template);
  const rollsOut = templateChanged && !paused;
  const action = rollsOut ? 'replace' : before !== after ? 'scale' : templateChanged ? 'replace' : undefined;
  if (!action) return undefined;
  // The template the pods end with: the new one, or while paused the one running now.
  const target = paused ? live.spec?.template : d.spec?.template;
  // Oldest first, as the Deployment controller picks among ReplicaSets sharing a template.
  const rss = controlledBy(index, live, 'ReplicaSet').sort((a, b) => byCreation(viewOf(a), viewOf(b)));
  const targetRS = rss.find((rs) => equalIgnoreHash(rs.spec?.template, target));
  const reuses = rollsOut && targetRS
    ? { replicaSet: targetRS.metadata.name, ...(targetRS.metadata.annotations?.[REVISION_ANNOTATION] && { revision: targetRS.metadata.annotations[REVISION_ANNOTATION] }) }
    : undefined;
  const common = { ...base, action, replicas: { before, after }, template: target, owner: targetRS?.metadata.uid, templateChanged, params, paused, reuses } as const;
  if (!podsKnown) {
    // No pods to look at (a base revision): what the Deployment runs is its status, or its spec.
    const running = live.status?.replicas ?? before;
    if (rollsOut) return { ...common, podsCreated: after, podsDeleted: running };
    return { ...common, podsCreated: Math.max(0, after - before), podsDeleted: Math.max(0, before - after) };
  }
  const all = activePodsOf(index, live);
  // Paused: no rollout, the running pods are only scaled. Otherwise every pod not of the new template goes.
  const current = paused ? all : targetRS ? activePodsOf(index, targetRS) : [];
  const { keeps, excess } = trim(current, after);
  const stops = [...all.filter((p) => !current.includes(p)), ...excess];
  return { ...common, keeps, stops, podsCreated: after - keeps.length, podsDeleted: stops.length };
}

function replicaSetUpdate(base: Base, rs: KubeObject, live: KubeObject, index: LiveIndex, podsKnown: boolean): WorkloadChange | undefined {
  const before = replicasOf(live), after = replicasOf(rs);
  // A ReplicaSet never replaces running pods for a new template: only the pods it creates later use it.
  const templateChanged = !equalIgnoreHash(rs.spec?.template, live.spec?.template);
  const action = before !== after ? 'scale' : templateChanged ? 'replace' : undefined;
  if (!action) return undefined;
  const common = { ...base, action, replicas: { before, after }, template: rs.spec?.template, owner: live.metadata.uid, templateChanged } as const;
  if (!podsKnown) return { ...common, podsCreated: Math.max(0, after - before), podsDeleted: Math.max(0, before - after) };
  const { keeps, excess } = trim(activePodsOf(index, live), after);
  return { ...common, keeps, stops: excess, podsCreated: after - keeps.length, podsDeleted: excess.length };
}

/**
 * A Job's spec.template is immutable: Kubernetes refuses the update, so the change is reported as a replacement
 * that needs the Job deleted and created again; its running pods are what that would stop. Other fields
 * (parallelism, suspend, activeDeadlineSeconds) change in place and have no rollout to show.
 */
function jobUpdate(base: Base, job: KubeObject, live: KubeObject, index: LiveIndex): WorkloadChange | undefined {
  if (equalIgnoreHash(job.spec?.template, live.spec?.template)) return undefined;
  const active = activePodsOf(index, live);
  return {
    ...base, action: 'replace', replicas: { before: active.length, after: replicasOf(job) },
    podsCreated: 0, podsDeleted: 0, keeps: active, templateChanged: true,
  };
}

const withoutImages = (spec: any) => ({
  ...spec,
  containers: (spec?.containers ?? []).map((c: any) => ({ ...c, image: undefined, imagePullPolicy: undefined })),
});

function podUpdate(base: Base, pod: KubeObject, live: KubeObject): WorkloadChange | undefined {
  // Labels and annotations change in place; only a spec change matters to the running pod.
  if (equalIgnoreHash({ spec: pod.spec }, { spec: live.spec })) return undefined;
  const imageOnly = equalIgnoreHash({ spec: withoutImages(pod.spec) }, { spec: withoutImages(live.spec) });
  return {
    ...base,
    action: 'replace',
    replicas: { before: 1, after: 1 },
    podsCreated: 0,
    podsDeleted: 0,
    keeps: isPodActive(live) ? [live] : [],
    templateChanged: true,
    stored: { ...pod, metadata: { ...live.metadata, ...pod.metadata }, status: live.status },
    imageOnly,
  };
}
