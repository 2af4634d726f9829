// A DaemonSet's history as ControllerRevisions (apps/v1), kept by the same history rules as a StatefulSet's
// (controller-revision.ts): one revision per distinct pod template, going back to an earlier template renumbers its
// revision instead of adding one, the oldest unused ones pruned beyond revisionHistoryLimit (default 10). The
// revision's hash also labels the pods (controller-revision-hash).
import type { KubeObject } from '../model/object.ts';
import { controllerOf } from '../model/pod.ts';
import type { Store } from '../store/store.ts';
import { DAEMONSET_REVISION_HASH_LABEL, revisionNumber, revisionsToTruncate, sortRevisions, updateRevisionStep } from './controller-revision.ts';

/** The DaemonSet's own revisions among `all`, oldest first. */
export const ownRevisions = (ds: KubeObject, all: KubeObject[]) => sortRevisions(all.filter((r) => controllerOf(r)?.uid === ds.metadata.uid));

/**
 * Makes the current template's revision the newest (creating it, or renumbering it when an earlier template came
 * back), and deletes the oldest revisions no live pod uses beyond the history limit. Returns the current hash.
 */
export async function syncRevisions(store: Store, ds: KubeObject, revisions: KubeObject[], liveHashes: Set<string>): Promise<{ hash: string; revision: number }> {
  const sorted = sortRevisions(revisions);
  const step = updateRevisionStep(ds, sorted, ds.status?.collisionCount ?? 0, DAEMONSET_REVISION_HASH_LABEL);
  const current = step.action === 'use' ? step.revision
    : step.action === 'renumber' ? await store.update({ ...step.revision, revision: step.to } as KubeObject)
    : await store.create(step.revision);
  const hash = current.metadata.labels?.[DAEMONSET_REVISION_HASH_LABEL] ?? '';
  const live = new Set([current.metadata.name, ...sorted.filter((r) => liveHashes.has(r.metadata.labels?.[DAEMONSET_REVISION_HASH_LABEL] ?? '')).map((r) => r.metadata.name)]);
  for (const r of revisionsToTruncate(sortRevisions([...sorted.filter((r) => r.metadata.name !== current.metadata.name), current]), live, ds.spec?.revisionHistoryLimit ?? 10)) {
    await store.delete('ControllerRevision', r.metadata.namespace, r.metadata.name);
  }
  return { hash, revision: revisionNumber(current) };
}
