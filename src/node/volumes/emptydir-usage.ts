// How much each of a pod's size-limited emptyDir volumes holds, as the kubelet's du-based volume metrics measure
// it (every file and folder under it, hard links once): read by the eviction manager. get-folder-size walks the tree.
import getFolderSize from 'get-folder-size';
import type { KubeObject } from '../../model/object.ts';
import { emptyDirPath } from './pod-volumes.ts';

/** Bytes used, by volume name, of the pod's emptyDir volumes that have a sizeLimit (the others are not measured). */
export async function emptyDirUsage(dataDir: string, pod: KubeObject): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const vol of (pod.spec?.volumes ?? []) as { name: string; emptyDir?: { sizeLimit?: string | number } }[]) {
    if (vol.emptyDir?.sizeLimit === undefined) continue;
    // Files that vanish mid-walk are skipped (loose): a folder being written is measured as it is.
    out.set(vol.name, await getFolderSize.loose(emptyDirPath(dataDir, pod, vol.name)));
  }
  return out;
}
