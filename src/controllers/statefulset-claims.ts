// persistentVolumeClaimRetentionPolicy as owner references, as kube-controller-manager 1.32 writes them on a
// StatefulSet's claims: the garbage collector then deletes a claim when its owner goes. whenDeleted: Delete makes
// the set an owner (the claim goes with the set); whenScaled: Delete makes a condemned ordinal's pod the owner
// (the claim goes with that pod, and only once the set has been scaled below it). Retain makes neither. Pure.
import type { KubeObject, OwnerReference } from '../model/object.ts';
import { ownerRefTo } from '../model/pod.ts';
import { inOrdinalRange, ordinalOf } from './statefulset-identity.ts';

export interface RetentionPolicy { whenDeleted: 'Retain' | 'Delete'; whenScaled: 'Retain' | 'Delete' }

export function retentionPolicy(set: KubeObject): RetentionPolicy {
  const p = set.spec?.persistentVolumeClaimRetentionPolicy ?? {};
  return { whenDeleted: p.whenDeleted === 'Delete' ? 'Delete' : 'Retain', whenScaled: p.whenScaled === 'Delete' ? 'Delete' : 'Retain' };
}

/**
 * The claim's owner references as the policy wants them for `pod` (the pod of the claim's ordinal): references to
 * the set and pod scrubbed, then added back as the policy says; other owners are kept. When some other object
 * controls the claim, upstream leaves it alone after scrubbing: so does this.
 */
export function claimOwners(claim: KubeObject, set: KubeObject, pod: KubeObject): OwnerReference[] {
  const others = (claim.metadata.ownerReferences ?? []).filter((r) => r.uid !== set.metadata.uid && r.uid !== pod.metadata.uid);
  if (others.some((r) => r.controller)) return others;
  const policy = retentionPolicy(set);
  const scaledDown = !inOrdinalRange(set, ordinalOf(pod));
  const refs = [...others];
  if (policy.whenDeleted === 'Delete' && !(policy.whenScaled === 'Delete' && scaledDown)) refs.push(ownerRefTo(set));
  if (policy.whenScaled === 'Delete' && scaledDown) refs.push(ownerRefTo(pod));
  return refs;
}

/** The owner references differ in what counts (owner uids and the controller flag), whatever their order. */
export function ownersDiffer(a: readonly OwnerReference[] | undefined, b: readonly OwnerReference[] | undefined): boolean {
  const key = (refs: readonly OwnerReference[] | undefined) => (refs ?? []).map((r) => `${r.uid}:${!!r.controller}`).sort().join(',');
  return key(a) !== key(b);
}
