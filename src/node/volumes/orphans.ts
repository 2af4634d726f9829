// Pod folders (<data-dir>/pods/<uid>, the volumes) of pods that are no longer in the store, as the kubelet's
// cleanupOrphanedPodDirs removes them: left by pods deleted while serve was down. Claims' data lives elsewhere.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../../store/store.ts';
import { tearDownVolumes } from './pod-volumes.ts';

/** A folder this young may belong to a pod another node is setting up right now: left for the next start. */
const MIN_AGE_MS = 60_000;

export async function removeOrphanedPodDirs(store: Store, dataDir: string, now = Date.now()): Promise<string[]> {
  // Log folders are <namespace>_<pod>_<uid>; volume folders are the bare uid.
  const names = (await readdir(join(dataDir, 'pods')).catch(() => [] as string[])).filter((n) => !n.includes('_'));
  if (!names.length) return [];
  const uids = async () => new Set((await store.list('Pod')).map((p) => p.metadata.uid));
  const first = await uids();
  const old: string[] = [];
  for (const n of names.filter((u) => !first.has(u))) {
    const st = await stat(join(dataDir, 'pods', n)).catch(() => undefined);
    if (st?.isDirectory() && now - st.mtimeMs >= MIN_AGE_MS) old.push(n);
  }
  if (!old.length) return [];
  const again = await uids(); // a pod created meanwhile keeps its folder
  const gone = old.filter((u) => !again.has(u));
  for (const uid of gone) await tearDownVolumes(dataDir, uid);
  return gone;
}
