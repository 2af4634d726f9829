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
  const ns = owner.metadata.namespace ?? '';
  const uid = owner.metadata.uid;
  // By the controller index when the owner has a uid: those naming it, and those whose reference has none (matched by name).
  const candidates = uid && ctx.controlledBy
    ? [...ctx.controlledBy(kind, uid), ...ctx.controlledBy(kind, '')].filter((o) => (o.metadata.namespace ?? '') === ns)
    : ctx.list(kind, ns);
  return candidates
    .filter((o) => isOwnedBy(o, owner))
    .sort((a, b) => (a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0));
}
