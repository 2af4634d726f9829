// Which live objects a controller owns: by the controller ownerReference's uid, or by kind and name when either
// side has no uid (objects written by hand, as in fixtures).
import type { KubeObject } from '../model/object.ts';
import { controllerOf } from '../model/pod.ts';
import type { HealthContext } from './types.ts';
import { compareText } from '../model/compare-text.ts';

export function isOwnedBy(obj: KubeObject, owner: KubeObject): boolean {
  const ref = controllerOf(obj);
  if (!ref) return false;
  if (ref.uid && owner.metadata.uid) return ref.uid === owner.metadata.uid;
  return ref.kind === owner.kind && ref.name === owner.metadata.name;
}

const byName = (a: KubeObject, b: KubeObject) => compareText(a.metadata.name, b.metadata.name);

/** The `kind` objects in the owner's namespace that it controls, by name (in any order with `anyOrder`: waitingOn's). */
export function owned(owner: KubeObject, kind: string, ctx: HealthContext, anyOrder = false): KubeObject[] {
  const ns = owner.metadata.namespace ?? '';
  const uid = owner.metadata.uid;
  // By the controller index when the owner has a uid: those naming it, and those whose reference has none (matched by name).
  const out: KubeObject[] = [];
  if (uid && ctx.controlledBy) {
    // Those naming its uid are its own (no second look at their references: 1,000 pods at each assessment).
    for (const o of ctx.controlledBy(kind, uid)) if ((o.metadata.namespace ?? '') === ns) out.push(o);
    for (const o of ctx.controlledBy(kind, '')) if ((o.metadata.namespace ?? '') === ns && isOwnedBy(o, owner)) out.push(o);
  } else for (const o of ctx.list(kind, ns)) if ((o.metadata.namespace ?? '') === ns && isOwnedBy(o, owner)) out.push(o);
  // The store lists by namespace and name, so they mostly come in order: sorted only when they do not (300 pods
  // of each of 100 Deployments were sorted at every assessment of a storm).
  if (anyOrder) return out;
  for (let i = 1; i < out.length; i++) if (byName(out[i - 1], out[i]) > 0) return out.sort(byName);
  return out;
}
