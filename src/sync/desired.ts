// The desired state of one revision: its manifests loaded and validated, then its git images pinned to trees
// and its pod templates stamped with the checksum of the configuration they read.
import { loadManifests, sortIssues } from '../manifests/load-manifests.ts';
import { gitImageDirs, pinGitImages } from '../manifests/git-images.ts';
import type { LoadOptions, LoadResult } from '../manifests/types.ts';
import type { Revision } from '../source/revision.ts';
import { stampConfigChecksums } from './config-checksum.ts';

export interface TreeLookup {
  /** The tree oid of `dir` at commit `sha`, undefined when there is no such directory. */
  treeOid(sha: string, dir: string): Promise<string | undefined>;
}

export async function loadDesired(rev: Revision, trees: TreeLookup, opts: LoadOptions): Promise<LoadResult> {
  const result = loadManifests(rev.files, opts);
  if (result.issues.some((i) => i.severity === 'error')) return result;
  const dirs = gitImageDirs(result.objects);
  const oids = new Map(await Promise.all(dirs.map(async (d) => [d, await trees.treeOid(rev.sha, d)] as const)));
  const problems = pinGitImages(result.objects, oids, rev.sha);
  stampConfigChecksums(result.objects.map((d) => d.object));
  return { objects: result.objects, issues: sortIssues([...result.issues, ...problems]) };
}
