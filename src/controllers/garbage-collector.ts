// The garbage collector: deletes objects whose owners are all gone, as Kubernetes' does with background
// propagation. An owner counts only with the same uid, so a recreated namesake does not keep old dependents.
// Cascades by itself: a Deployment's deletion removes its ReplicaSets, whose deletion removes their pods; a
// CronJob's removes its Jobs, whose deletion removes their pods.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject, OwnerReference } from '../model/object.ts';
import { isNamespaced, kindInfo } from '../model/kinds.ts';
import type { ControllerContext, ControllerSpec } from './controller.ts';

/** The kinds whose objects are collected when their owners are gone. */
export const GC_DEPENDENT_KINDS = ['ReplicaSet', 'Pod', 'Job', 'ControllerRevision', 'PersistentVolumeClaim'] as const;
/** The kinds whose deletion is watched to find dependents at once (other owners are still checked, by sync). */
const OWNER_KINDS = ['Deployment', 'ReplicaSet', 'ReplicationController', 'Job', 'CronJob', 'StatefulSet', 'DaemonSet', 'Pod'];
/** Only claims can be owned by a pod (a StatefulSet's, whenScaled: Delete): a pod's deletion looks at no other kind. */
const DEPENDENTS_OF: Record<string, readonly string[]> = { Pod: ['PersistentVolumeClaim'] };

/** `Kind/namespace/name`: this controller handles several kinds. */
const gcKey = (o: KubeObject) => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

function parseGcKey(key: string): { kind: string; namespace: string; name: string } {
  const [kind, namespace, ...rest] = key.split('/');
  return { kind, namespace, name: rest.join('/') };
}

const hasOwners = (o: KubeObject) => !!o.metadata.ownerReferences?.length;

export function garbageCollector(): ControllerSpec {
  const dependents = (ctx: ControllerContext) => GC_DEPENDENT_KINDS.flatMap((kind) => ctx.informer(kind).list().filter(hasOwners));

  return {
    name: 'garbage-collector',
    kinds: [...new Set([...GC_DEPENDENT_KINDS, ...OWNER_KINDS])],

    watch(ctx, enqueue) {
      const check = (o: KubeObject) => { if (hasOwners(o)) enqueue(gcKey(o)); };
      // Status writes change nothing the collector decides on: only new or changed ownerReferences are looked at.
      const refsChanged = (old: KubeObject, o: KubeObject) => !isDeepStrictEqual(old.metadata.ownerReferences, o.metadata.ownerReferences);
      for (const kind of GC_DEPENDENT_KINDS) ctx.informer(kind).on({ add: check, update: (old, o) => { if (refsChanged(old, o)) check(o); } });
      for (const kind of OWNER_KINDS) {
        ctx.informer(kind).on({
          delete(owner) {
            for (const dep of DEPENDENTS_OF[kind] ?? GC_DEPENDENT_KINDS) {
              for (const o of ctx.informer(dep).list(owner.metadata.namespace ?? 'default')) {
                if (o.metadata.ownerReferences?.some((r) => r.uid === owner.metadata.uid)) enqueue(gcKey(o));
              }
            }
          },
        });
      }
    },

    initialKeys: (ctx) => dependents(ctx).map(gcKey),

    async sync(key, ctx) {
      const { kind, namespace, name } = parseGcKey(key);
      // Read the store, not the cache: deleting on a stale view would be the one mistake that cannot be undone.
      // The cache first, so that most keys (owners all alive) cost no store read at all.
      const cached = ctx.informer(kind).get(namespace, name);
      if (!cached || !hasOwners(cached) || cached.metadata.ownerReferences!.every((r) => ownerCached(ctx, namespace, r))) return;
      const obj = await ctx.store.get(kind, namespace, name);
      if (!obj || !hasOwners(obj) || obj.metadata.deletionTimestamp) return;
      const alive: OwnerReference[] = [];
      const gone: OwnerReference[] = [];
      for (const ref of obj.metadata.ownerReferences!) ((await ownerExists(ctx, namespace, ref)) ? alive : gone).push(ref);
      if (!gone.length) return;
      if (!alive.length) {
        await ctx.store.delete(kind, namespace, name); // a bound pod is only marked: its node stops it first
        return;
      }
      // Some owners remain: drop only the references to the missing ones, as Kubernetes does.
      const next = structuredClone(obj); // with its resourceVersion: a concurrent change is a Conflict, and a retry
      next.metadata.ownerReferences = alive;
      await ctx.store.update(next);
    },
  };
}

/** The owner is in the cache with the same uid (a kind convergit does not keep counts as alive; one it does not cache, as unknown). */
function ownerCached(ctx: ControllerContext, namespace: string, ref: OwnerReference): boolean {
  if (!kindInfo(ref.kind)) return true;
  if (!OWNER_KINDS.includes(ref.kind)) return false;
  const owner = ctx.informer(ref.kind).get(isNamespaced(ref.kind) ? namespace : undefined, ref.name);
  return owner?.metadata.uid === ref.uid;
}

async function ownerExists(ctx: ControllerContext, namespace: string, ref: OwnerReference): Promise<boolean> {
  if (!kindInfo(ref.kind)) return true; // a kind convergit does not keep: it cannot tell, so it keeps the dependent
  const owner = await ctx.store.get(ref.kind, isNamespaced(ref.kind) ? namespace : undefined, ref.name);
  return !!owner && owner.metadata.uid === ref.uid;
}
