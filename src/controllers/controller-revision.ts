// The ControllerRevisions of a StatefulSet or DaemonSet, as kube-controller-manager's history keeps them: each
// records one pod template (the set's spec.template as a strategic-merge patch that replaces it), named
// `<set>-<hash>`, numbered by `revision`. A template equal to an earlier revision's reuses that revision (its
// number raised), which is what brings a `git revert` back to the exact pods it had. Pure.
import type { KubeObject } from '../model/object.ts';
import { ownerRefTo } from '../model/pod.ts';
import { canonical } from '../plan/canonical.ts';
import { fnv32a } from '../model/hash.ts';
import { safeEncode } from './pod-template-hash.ts';
import { compareText } from '../model/compare-text.ts';

/** The label a StatefulSet's ControllerRevision carries its hash in. */
export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';
/** A DaemonSet's revisions (and pods) carry it in this one instead, as upstream's daemon controller writes it. */
export const DAEMONSET_REVISION_HASH_LABEL = 'controller-revision-hash';

/** What a revision records: `{spec: {template: {…, $patch: replace}}}`, as upstream's getPatch. */
export function revisionData(set: KubeObject): Record<string, unknown> {
  return { spec: { template: { ...structuredClone(set.spec?.template ?? {}), $patch: 'replace' } } };
}

/** The pod template a revision records. */
export function templateOf(revision: KubeObject): Record<string, any> {
  const { $patch: _replace, ...template } = ((revision.data as any)?.spec?.template ?? {}) as Record<string, any>;
  return template;
}

/** The hash of the data, with the collision count mixed in (upstream's HashControllerRevision with a probe). */
export function revisionHash(data: unknown, collisionCount = 0): string {
  return safeEncode(String(fnv32a(canonical(data) + (collisionCount ? String(collisionCount) : ''))));
}

/** `<set>-<hash>`, the set's name cut so the whole fits a name (upstream's ControllerRevisionName). */
export function revisionName(setName: string, hash: string): string {
  return `${setName.length > 223 ? setName.slice(0, 223) : setName}-${hash}`;
}

/** A new ControllerRevision for the set's current template, owned by the set; its hash under `hashLabel`. */
export function newRevision(set: KubeObject, revision: number, collisionCount: number, hashLabel = REVISION_HASH_LABEL): KubeObject {
  const data = revisionData(set);
  const hash = revisionHash(data, collisionCount);
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: revisionName(set.metadata.name, hash),
      namespace: set.metadata.namespace,
      labels: { ...set.spec?.template?.metadata?.labels, [hashLabel]: hash },
      // The set's annotations, as upstream copies them: kubectl rollout history reads the change-cause here.
      ...(set.metadata.annotations && { annotations: { ...set.metadata.annotations } }),
      ownerReferences: [ownerRefTo(set)],
    },
    data,
    revision,
  };
}

/** Two revisions record the same template (upstream's EqualRevision: same data). */
export const equalRevisions = (a: KubeObject, b: KubeObject) => canonical(a.data) === canonical(b.data);

/** By revision number, then creation time, then name: oldest first (upstream's ByRevision). */
export function sortRevisions(revisions: readonly KubeObject[]): KubeObject[] {
  return [...revisions].sort((a, b) =>
    revisionNumber(a) - revisionNumber(b) ||
    compareText(a.metadata.creationTimestamp ?? '', b.metadata.creationTimestamp ?? '') ||
    compareText(a.metadata.name, b.metadata.name));
}

/** The number the next revision gets: one above the highest. */
export const nextRevisionNumber = (sorted: readonly KubeObject[]) => (sorted.length ? revisionNumber(sorted[sorted.length - 1]) + 1 : 1);

export const revisionNumber = (r: KubeObject): number => (typeof r.revision === 'number' ? r.revision : 0);

export type RevisionStep =
  | { action: 'use'; revision: KubeObject }
  /** An earlier revision with the same template: raise its number (a rollback). */
  | { action: 'renumber'; revision: KubeObject; to: number }
  | { action: 'create'; revision: KubeObject };

/** What the update revision is for the set's template now, given its history (sorted oldest first). */
export function updateRevisionStep(set: KubeObject, sorted: readonly KubeObject[], collisionCount: number, hashLabel = REVISION_HASH_LABEL): RevisionStep {
  const next = nextRevisionNumber(sorted);
  const candidate = newRevision(set, next, collisionCount, hashLabel);
  const equal = sorted.filter((r) => equalRevisions(r, candidate));
  const last = equal[equal.length - 1];
  if (last && last === sorted[sorted.length - 1]) return { action: 'use', revision: last };
  if (last) return { action: 'renumber', revision: last, to: next };
  return { action: 'create', revision: candidate };
}

/**
 * The revisions to delete so that at most `limit` remain beyond the live ones (those the current and update
 * revisions are, or a pod is labelled with), oldest first, as upstream's truncateHistory.
 */
export function revisionsToTruncate(sorted: readonly KubeObject[], live: ReadonlySet<string>, limit: number): KubeObject[] {
  const old = sorted.filter((r) => !live.has(r.metadata.name));
  return old.slice(0, Math.max(0, old.length - Math.max(0, limit)));
}
