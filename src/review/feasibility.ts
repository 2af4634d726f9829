// Scheduling feasibility: the cluster after the plan has rolled out, modelled on the live nodes with the real
// scheduler (default profile). Pods that fit nowhere are reported per workload with kube-scheduler's message, with
// the requested/allocatable resources before and after, and RollingUpdates that wait for room to start. Pure.
import type { KubeObject } from '../model/object.ts';
import { isTrue } from '../model/conditions.ts';
import { isPodActive } from '../model/pod.ts';
import { maxSurge, maxUnavailable } from '../controllers/rollout.ts';
import { defaultProfile } from '../scheduler/default-profile.ts';
import { schedule, type Profile } from '../scheduler/framework.ts';
import { nodeInfos, withPod, type NodeInfo } from '../scheduler/node-info.ts';
import type { Plan } from '../plan/plan.ts';
import type { LiveState } from './live-state.ts';
import type { ResourceUse, RolloutStall, SchedulingReport, UnschedulablePods } from './report.ts';
import { workloadChanges, type WorkloadChange } from './workload-change.ts';

const NOT_CHECKED_BASE = 'planned against a base revision: the nodes and pods are not known (use --server or --data-dir)';

export function schedulingFeasibility(plan: Plan, live: LiveState): SchedulingReport {
  if (!live.nodesKnown) return { checked: false, reason: NOT_CHECKED_BASE, nodes: 0, unschedulable: [], resources: resourcesOf([], [], []) };
  const profile = defaultProfile();
  const nodes = live.objects.filter((o) => o.kind === 'Node');
  // Now, pods being deleted still hold their room, as kube-scheduler counts them; pending pods hold nothing (and
  // those of workloads the plan leaves alone are not its concern).
  const pods = live.objects.filter((o) => o.kind === 'Pod');
  const before = nodeInfos(nodes, pods);
  // Once the plan has rolled out, the pods being deleted are gone.
  const bound = pods.filter((o) => o.spec?.nodeName && isPodActive(o));
  const changes = workloadChanges(plan, live);

  // The end state: the pods the plan stops are gone, a bare pod whose spec changes is counted as stored...
  const stopped = new Set(changes.flatMap((c) => c.stops));
  const stored = new Map(changes.flatMap((c) => (c.stored ? c.keeps.map((p) => [p, c.stored!] as const) : [])));
  let infos = nodeInfos(nodes, bound.filter((p) => !stopped.has(p)).map((p) => stored.get(p) ?? p));
  // ...then each workload's pods that need a node are placed one by one, in apply order.
  const unschedulable: UnschedulablePods[] = [];
  for (const c of changes) {
    const toPlace = [...c.keeps.filter((p) => !p.spec?.nodeName).map((p) => stored.get(p) ?? p), ...newPods(c)];
    let failed = 0, message = '';
    for (const pod of toPlace) {
      const r = place(pod, infos, profile);
      if ('infos' in r) infos = r.infos;
      else if (!failed++) message = r.message;
    }
    if (failed) unschedulable.push({ kind: c.kind, namespace: c.namespace, name: c.name, pods: failed, of: toPlace.length, message });
  }
  const stalls = changes.filter((c) => !unschedulable.some((u) => u.kind === c.kind && u.namespace === c.namespace && u.name === c.name))
    .flatMap((c) => stallOf(c, before, profile) ?? []);
  return {
    checked: true,
    nodes: nodes.length,
    unschedulable,
    resources: resourcesOf(nodes, before, infos),
    ...(stalls.length && { stalls }),
  };
}

/** Binds `pod` where the scheduler would (or where spec.nodeName says: that skips the scheduler, as in Kubernetes). */
function place(pod: KubeObject, infos: NodeInfo[], profile: Profile): { infos: NodeInfo[] } | { message: string } {
  let node: string | undefined = pod.spec?.nodeName;
  if (node) {
    if (!infos.some((i) => i.name === node)) return { message: `spec.nodeName names node "${node}", which does not exist` };
  } else {
    const r = schedule(pod, infos, profile);
    if (!('node' in r)) return { message: r.message };
    node = r.node;
  }
  return { infos: infos.map((i) => (i.name === node ? withPod(i, pod) : i)) };
}

/** The pods a change starts, made from its template: only their spec, labels and owner matter to the scheduler. */
function newPods(c: WorkloadChange): KubeObject[] {
  if (!c.template || c.podsCreated <= 0) return [];
  const owner = c.owner ?? `plan:${c.kind}/${c.namespace}/${c.name}`; // new pods of one workload spread together
  return Array.from({ length: c.podsCreated }, (_, i) => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: c.kind === 'Pod' ? c.name : `${c.name}-new-${i + 1}`,
      namespace: c.namespace,
      ...(c.template!.metadata?.labels && { labels: c.template!.metadata.labels }),
      ...(c.kind !== 'Pod' && { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: c.name, uid: owner, controller: true }] }),
    },
    spec: c.template!.spec,
  }));
}

/**
 * A RollingUpdate with maxUnavailable 0 stops an old pod only once the available pods exceed the desired replicas.
 * By the Deployment controller's arithmetic (NewRSNewReplicas, then reconcileOldReplicaSets), from `current` pods
 * to `after` replicas that takes `after - current + 1` new pods running beside all the old ones: one when the
 * replicas stay, more when they grow, none when they shrink (old pods are stopped first). When that many fit on
 * no node now, the rollout waits for room.
 */
function stallOf(c: WorkloadChange, now: NodeInfo[], profile: Profile): RolloutStall | undefined {
  const p = c.params;
  if (c.kind !== 'Deployment' || c.action !== 'replace' || c.paused || !p || p.strategy !== 'RollingUpdate') return undefined;
  if (maxUnavailable(p) !== 0 || !c.stops.length || c.podsCreated <= 0) return undefined;
  const need = c.replicas.after - (c.keeps.length + c.stops.length) + 1;
  if (need <= 0) return undefined;
  let infos = now;
  for (const pod of newPods(c).slice(0, need)) {
    const r = place(pod, infos, profile);
    if ('infos' in r) { infos = r.infos; continue; }
    const wave = need === 1 ? '1 new pod runs' : `${need} new pods run`;
    return {
      kind: c.kind, namespace: c.namespace, name: c.name,
      message: `RollingUpdate with maxUnavailable 0 stops none of the ${c.stops.length} old pods until ${wave} beside them (maxSurge ${maxSurge(p)}), ` +
        `and there is no room for ${need === 1 ? 'it' : 'them'} beside the pods running now: ${r.message} ` +
        'The rollout would wait; allow maxUnavailable above 0 or add capacity.',
    };
  }
  return undefined;
}

function resourcesOf(nodes: KubeObject[], before: NodeInfo[], after: NodeInfo[]): SchedulingReport['resources'] {
  const ready = nodeInfos(nodes.filter((n) => isTrue(n.status?.conditions, 'Ready')), []);
  // Requested and allocatable over the same (Ready) nodes: pods left on a NotReady node would push it past 100%.
  const names = new Set(ready.map((i) => i.name));
  const sum = (infos: NodeInfo[], f: (i: NodeInfo) => number) => infos.filter((i) => names.has(i.name)).reduce((n, i) => n + f(i), 0);
  const use = (alloc: (i: NodeInfo) => number, req: (i: NodeInfo) => number): ResourceUse => ({
    allocatable: sum(ready, alloc), requestedBefore: sum(before, req), requestedAfter: sum(after, req),
  });
  return {
    cpu: use((i) => i.allocatable.milliCpu, (i) => i.requested.milliCpu),
    memory: use((i) => i.allocatable.memory, (i) => i.requested.memory),
    pods: use((i) => i.allocatable.pods, (i) => i.pods.length),
  };
}
