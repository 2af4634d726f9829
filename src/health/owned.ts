// Which live objects a controller owns: by the controller ownerReference's uid, or by kind and name when either
// side has no uid (objects written by hand, as in fixtures).
import type { KubeObject } from '../model/object.ts';
import { controllerOf } from '../model/pod.ts';
import type { HealthContext } from './types.ts';

export function isOwnedBy(obj: KubeObject, owner: KubeObject): boolean {
  const ref = controllerOf(obj);
  if (!ref) return false;
  if (ref.uid && owner.metadata.uid) return ref.uid === owner.metadata.uid;
  return ref.kind === owner.kind && ref.name === owner.metadata.name;
}

/** The `kind` objects in the owner's namespace that it controls, by name. */
export function owned(owner: KubeObject, kind: string, ctx: HealthContext): KubeObject[] {
  return ctx.list(kind, owner.metadata.namespace ?? '')
    .filter((o) => isOwnedBy(o, owner))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}
