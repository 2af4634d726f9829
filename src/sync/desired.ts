// The desired state of one revision: built (kustomizations run through kustomize), its manifests loaded and
// validated, then its git images pinned to trees and its pod templates stamped with the checksum of the
// configuration they read.
import { loadManifests, preloadInWorkers, sortIssues, type Preload } from '../manifests/load-manifests.ts';
import { gitImageDirs, pinGitImages } from '../manifests/git-images.ts';
import type { LoadOptions, LoadResult } from '../manifests/types.ts';
import type { Revision } from '../source/revision.ts';
import { buildManifests } from '../build/build-manifests.ts';
import type { Builder } from '../build/builder.ts';
import type { SourceTree } from '../build/source-tree.ts';
import { stampConfigChecksums } from './config-checksum.ts';

export interface TreeLookup {
  /** The tree oid of `dir` at commit `sha`, undefined when there is no such directory. */
  treeOid(sha: string, dir: string): Promise<string | undefined>;
  /** Every path of commit `sha`: what kustomize builds from. */
  revisionTree(sha: string): SourceTree;
}

/**
 * `builder` keeps kustomize's output across revisions (default: one per process, in memory). `preload`: the parse
 * workers the revision's files were handed to as they were read (ReadOptions.onRead), waited for here; its owner
 * aborts it if this fails.
 */
export async function loadDesired(rev: Revision, trees: TreeLookup, opts: LoadOptions & { preload?: Preload }, builder?: Builder): Promise<LoadResult> {
  const { preload, ...load } = opts;
  const build = await buildManifests(rev.files, trees.revisionTree(rev.sha), { root: opts.root, builder });
  const cache = load.cache ?? (await builder?.loads());
  const loadOpts = cache ? { ...load, cache } : load;
  // Thousands of files not loaded before (a cold start): parsed and checked in worker threads first (those not
  // handed over as they were read: kustomize's output; all of them when the read handed over none, as a second
  // read given a finished preload).
  const fed = preload?.open;
  await preload?.finish();
  await preloadInWorkers(fed ? build.built : build.files, loadOpts);
  const loaded = loadManifests(build.files, loadOpts);
  await cache?.flush?.();
  const result = { objects: loaded.objects, issues: sortIssues([...(rev.warnings ?? []), ...build.issues, ...build.explain(loaded.issues)]) };
  if (result.issues.some((i) => i.severity === 'error')) return result;
  const dirs = gitImageDirs(result.objects);
  const oids = new Map(await Promise.all(dirs.map(async (d) => [d, await trees.treeOid(rev.sha, d)] as const)));
  const problems = build.explain(pinGitImages(result.objects, oids, rev.sha));
  const stamped = stampConfigChecksums(result.objects.map((d) => d.object));
  // A stamped copy replaces the loader's entry, which its next load may hand out again.
  result.objects.forEach((d, i) => { if (stamped[i] !== d.object) result.objects[i] = { ...d, object: stamped[i] }; });
  return { objects: result.objects, issues: sortIssues([...result.issues, ...problems]) };
}
