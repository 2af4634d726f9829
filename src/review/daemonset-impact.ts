// Rollout impact of DaemonSets: how many nodes a created DaemonSet runs on, and how a template change rolls over
// the nodes ("rolls on 3 nodes …"), as the daemon controller would do it. Pure.
import type { KubeObject } from '../model/object.ts';
import { isPodActive } from '../model/pod.ts';
import { equalIgnoreHash } from '../controllers/pod-template-hash.ts';
import { nodeShouldRunDaemonPod } from '../controllers/daemonset-pods.ts';
import { rollingBudget } from '../controllers/daemonset-plan.ts';
import type { Plan } from '../plan/plan.ts';
import type { LiveState } from './live-state.ts';
import { controlledBy, liveIndex } from './live-index.ts';
import type { RolloutImpact } from './report.ts';

const nodes = (n: number) => `${n} node${n === 1 ? '' : 's'}`;
const pods = (n: number) => `${n} pod${n === 1 ? '' : 's'}`;

export function daemonSetImpacts(plan: Plan, live: LiveState): RolloutImpact[] {
  const index = liveIndex(live.objects);
  const liveNodes = live.objects.filter((o) => o.kind === 'Node');
  const eligible = (ds: KubeObject) => liveNodes.filter((n) => nodeShouldRunDaemonPod(ds, n).shouldRun).length;
  const out: RolloutImpact[] = [];
  for (const step of plan.steps) {
    if (step.kind !== 'DaemonSet') continue;
    const ds = step.object;
    const base = { kind: 'DaemonSet', namespace: step.namespace ?? 'default', name: step.name };
    const current = index.byKey.get(step.key);
    const running = current ? controlledBy(index, current, 'Pod').filter(isPodActive) : [];
    if (step.action === 'create') {
      const n = eligible(ds);
      out.push({
        ...base, action: 'create', replicas: { before: 0, after: n }, podsCreated: n, podsDeleted: 0,
        summary: live.nodesKnown ? `creates one pod on each of ${nodes(n)} that should run it` : 'creates one pod on each node that should run it',
      });
    } else if (step.action === 'prune') {
      const n = live.nodesKnown ? running.length : current?.status?.currentNumberScheduled ?? 0;
      out.push({ ...base, action: 'prune', replicas: { before: n, after: 0 }, podsCreated: 0, podsDeleted: n, summary: n ? `deletes it and its ${pods(n)}` : 'deletes it; none of its pods run' });
    } else if (step.action === 'update' && current && !equalIgnoreHash(ds.spec?.template, current.spec?.template)) {
      const after = live.nodesKnown ? eligible(ds) : current.status?.desiredNumberScheduled ?? 0;
      const before = live.nodesKnown ? running.length : current.status?.currentNumberScheduled ?? 0;
      if ((ds.spec?.updateStrategy?.type ?? 'RollingUpdate') === 'OnDelete') {
        out.push({
          ...base, action: 'replace', replicas: { before, after }, podsCreated: Math.max(0, after - before), podsDeleted: 0,
          summary: `OnDelete: no pod is replaced; the ${pods(before)} running keep the old template until each is deleted`,
        });
        continue;
      }
      const { maxSurge, maxUnavailable } = rollingBudget(ds, after);
      out.push({
        ...base, action: 'replace', replicas: { before, after }, podsCreated: after, podsDeleted: before, strategy: 'RollingUpdate', maxSurge, maxUnavailable,
        summary: `rolls on ${nodes(after)}: replaces ${pods(before)} node by node, RollingUpdate (maxSurge ${maxSurge}, maxUnavailable ${maxUnavailable})`,
      });
    }
  }
  return out;
}
