// Adopting and releasing: a controller rewrites an object's owner references on the version it read.
import type { ControllerContext } from './controller.ts';
import type { KubeObject } from '../model/object.ts';
import { StoreError } from '../store/store.ts';

/** Rewrites the object's owners. Undefined when it has gone meanwhile; a Conflict throws, so the sync is retried on a fresh read. */
export async function writeOwners(ctx: ControllerContext, obj: KubeObject, owners: KubeObject['metadata']['ownerReferences']): Promise<KubeObject | undefined> {
  const next = structuredClone(obj);
  if (owners?.length) next.metadata.ownerReferences = owners;
  else delete next.metadata.ownerReferences;
  try {
    return await ctx.store.update(next);
  } catch (err) {
    if (err instanceof StoreError && err.reason === 'NotFound') return undefined;
    throw err;
  }
}
