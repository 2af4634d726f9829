// The disruption controller, after kube-controller-manager's: keeps each PodDisruptionBudget's status current
// from the pods it selects (and, for percentages and maxUnavailable, their controllers' scale), so evictions
// (convergit drain) can honour it.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../model/object.ts';
import { controllerOf } from '../model/pod.ts';
import { keyOf, splitKey } from '../model/key.ts';
import { matchesRequirements, requirementsOf } from '../model/selector.ts';
import type { ControllerContext, ControllerSpec, SyncResult } from './controller.ts';
import { nextExpiry, pdbStatus } from './disruption-status.ts';

/** Kinds whose spec.replicas is a pod's expected scale; a Deployment's through its ReplicaSet. */
const SCALED = ['Deployment', 'ReplicaSet', 'ReplicationController', 'StatefulSet'];

export function disruptionController(): ControllerSpec {
  return {
    name: 'disruption',
    kinds: ['PodDisruptionBudget', 'Pod', ...SCALED],
    watch(ctx, enqueue) {
      const pdbs = ctx.informer('PodDisruptionBudget');
      pdbs.on({ add: (p) => enqueue(keyOf(p)), update: (_o, p) => enqueue(keyOf(p)), delete: () => {} });
      // A pod change reaches the budgets that select it (old labels too).
      const touch = (pod: KubeObject) => {
        for (const pdb of pdbs.list(pod.metadata.namespace ?? 'default')) if (selects(pdb, pod)) enqueue(keyOf(pdb));
      };
      ctx.informer('Pod').on({ add: touch, update: (o, p) => { touch(o); touch(p); }, delete: touch });
      const all = (o: KubeObject) => { for (const pdb of pdbs.list(o.metadata.namespace ?? 'default')) enqueue(keyOf(pdb)); };
      for (const kind of SCALED) ctx.informer(kind).on({ add: all, update: (o, n) => { if (o.spec?.replicas !== n.spec?.replicas) all(n); }, delete: all });
    },
    async sync(key, ctx): Promise<SyncResult> {
      const { namespace, name } = splitKey(key);
      const pdb = ctx.informer('PodDisruptionBudget').get(namespace, name);
      if (!pdb) return;
      const pods = ctx.informer('Pod').list(namespace).filter((p) => selects(pdb, p));
      const now = ctx.now();
      const { status, error } = pdbStatus({ pdb, pods, expectedScale: () => expectedScale(ctx, pods), now });
      if (error) ctx.log(`disruption: ${key}: ${error}`);
      if (!isDeepStrictEqual(status, pdb.status)) await ctx.store.updateStatus('PodDisruptionBudget', namespace, name, status, { shared: true });
      const next = nextExpiry(status, now);
      return next === undefined ? undefined : { requeueAfterMs: next };
    },
  };
}

/** A budget selects nothing with an empty or missing selector (policy/v1), else the pods its selector matches. */
export function selects(pdb: KubeObject, pod: KubeObject): boolean {
  const reqs = requirementsOf(pdb.spec?.selector ?? {});
  return reqs.length > 0 && (pod.metadata.namespace ?? 'default') === (pdb.metadata.namespace ?? 'default') && matchesRequirements(reqs, pod.metadata.labels);
}

/** The summed spec.replicas of the pods' controllers (each counted once); undefined when one cannot be found. */
function expectedScale(ctx: ControllerContext, pods: KubeObject[]): number | undefined {
  const seen = new Map<string, number>();
  for (const pod of pods) {
    const ref = controllerOf(pod);
    if (!ref) continue; // a bare pod counts toward no scale, as upstream
    let owner = SCALED.includes(ref.kind) ? ctx.informer(ref.kind).get(pod.metadata.namespace, ref.name) : undefined;
    if (!owner || owner.metadata.uid !== ref.uid) return undefined;
    const up = owner.kind === 'ReplicaSet' ? controllerOf(owner) : undefined;
    if (up?.kind === 'Deployment') {
      const d = ctx.informer('Deployment').get(owner.metadata.namespace, up.name);
      if (d && d.metadata.uid === up.uid) owner = d;
    }
    seen.set(owner.metadata.uid!, owner.spec?.replicas ?? 1);
  }
  return [...seen.values()].reduce((a, b) => a + b, 0);
}
