// A DaemonSet's history as ControllerRevisions (apps/v1), as the daemon controller keeps it: one revision per
// distinct pod template, named `<set>-<hash>`, numbered in the order templates became current (going back to an
// earlier template renumbers its revision instead of adding one), the oldest unused ones pruned beyond
// revisionHistoryLimit (default 10). The hash also labels the pods (controller-revision-hash).
import type { KubeObject } from '../model/object.ts';
import { controllerOf, ownerRefTo } from '../model/pod.ts';
import type { Store } from '../store/store.ts';
import { podTemplateHash } from './pod-template-hash.ts';

/** The hash of the DaemonSet's current template. */
export const templateHash = (ds: KubeObject) => podTemplateHash(ds.spec?.template);

/** What a revision stores: the template, as a strategic-merge patch that replaces it (Kubernetes' getPatch). */
const revisionData = (ds: KubeObject) => ({ spec: { template: { ...structuredClone(ds.spec?.template ?? {}), $patch: 'replace' } } });

const revisionNumber = (r: KubeObject) => Number((r as { revision?: number }).revision ?? 0);

/** The DaemonSet's own revisions among `all`, oldest first. */
export const ownRevisions = (ds: KubeObject, all: KubeObject[]) =>
  all.filter((r) => controllerOf(r)?.uid === ds.metadata.uid).sort((a, b) => revisionNumber(a) - revisionNumber(b));

/**
 * Makes the current template's revision the newest (creating it, or renumbering it when an earlier template came
 * back), and deletes the oldest revisions no live pod uses beyond the history limit. Returns the current hash.
 */
export async function syncRevisions(store: Store, ds: KubeObject, revisions: KubeObject[], liveHashes: Set<string>): Promise<{ hash: string; revision: number }> {
  const hash = templateHash(ds);
  const name = `${ds.metadata.name}-${hash}`.slice(0, 253);
  const max = revisions.reduce((m, r) => Math.max(m, revisionNumber(r)), 0);
  const cur = revisions.find((r) => r.metadata.name === name);
  let number = cur ? revisionNumber(cur) : max + 1;
  if (!cur) {
    await store.create({
      apiVersion: 'apps/v1', kind: 'ControllerRevision',
      metadata: { name, namespace: ds.metadata.namespace, labels: { ...ds.spec?.selector?.matchLabels, 'controller-revision-hash': hash }, ownerReferences: [ownerRefTo(ds)] },
      data: revisionData(ds), revision: number,
    } as KubeObject);
  } else if (number < max) {
    number = max + 1;
    await store.update({ ...cur, revision: number } as KubeObject);
  }
  const limit = ds.spec?.revisionHistoryLimit ?? 10;
  const old = revisions.filter((r) => r.metadata.name !== name && !liveHashes.has(r.metadata.labels?.['controller-revision-hash'] ?? ''));
  for (const r of old.slice(0, Math.max(0, old.length - limit))) await store.delete('ControllerRevision', r.metadata.namespace, r.metadata.name);
  return { hash, revision: number };
}
