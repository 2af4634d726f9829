// The TTL-after-finished controller, after Kubernetes': deletes a finished Job (Complete or Failed)
// ttlSecondsAfterFinished after it finished; the garbage collector then deletes its pods.
import type { KubeObject } from '../model/object.ts';
import { getCondition } from '../model/conditions.ts';
import { splitKey } from '../model/key.ts';
import type { ControllerSpec, SyncResult } from './controller.ts';

/** When the Job finished: its Complete or Failed condition's transition (completionTime for Complete). */
export function jobFinishedAt(job: KubeObject): number | undefined {
  for (const type of ['Complete', 'Failed']) {
    const c = getCondition(job.status?.conditions, type);
    if (c?.status === 'True') return Date.parse((type === 'Complete' && job.status?.completionTime) || c.lastTransitionTime || '');
  }
  return undefined;
}

/** Milliseconds until the Job expires (≤ 0: expired); undefined when it has no TTL or has not finished. */
export function msUntilExpiry(job: KubeObject, now: Date): number | undefined {
  const ttl = job.spec?.ttlSecondsAfterFinished;
  const at = jobFinishedAt(job);
  if (typeof ttl !== 'number' || at === undefined || Number.isNaN(at)) return undefined;
  return at + ttl * 1000 - now.getTime();
}

export function ttlAfterFinishedController(): ControllerSpec {
  return {
    name: 'ttl-after-finished',
    kinds: ['Job'],
    watch(ctx, enqueue) {
      const key = (j: KubeObject) => `${j.metadata.namespace ?? 'default'}/${j.metadata.name}`;
      ctx.informer('Job').on({ add: (j) => enqueue(key(j)), update: (_o, j) => enqueue(key(j)) });
    },
    async sync(key, ctx): Promise<SyncResult> {
      const { namespace, name } = splitKey(key);
      const cached = ctx.informer('Job').get(namespace, name);
      if (!cached || msUntilExpiry(cached, ctx.now()) === undefined) return;
      // Check the latest version before deleting: the TTL may have been changed or removed meanwhile.
      const job = await ctx.store.get('Job', namespace, name);
      if (!job || job.metadata.uid !== cached.metadata.uid) return;
      const left = msUntilExpiry(job, ctx.now());
      if (left === undefined) return;
      if (left > 0) return { requeueAfterMs: left };
      await ctx.store.delete('Job', namespace, name);
    },
  };
}
