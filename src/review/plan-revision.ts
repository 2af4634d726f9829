// Plans one ref of a repository: loads it as `serve` would, then reviews it against a live state or a base revision.
import type { Revision } from '../source/revision.ts';
import { objectKey } from '../model/key.ts';
import { loadDesired, type TreeLookup } from '../sync/desired.ts';
import type { Live } from './live-sources.ts';
import type { PlanReport } from './report.ts';
import { review } from './review.ts';

/** What planning needs from a Git source (GitSource implements it). */
export interface PlanSource extends TreeLookup {
  resolve(ref: string): Promise<string>;
  read(sha: string): Promise<Revision>;
  mergeBase(a: string, b: string): Promise<string | undefined>;
}

export interface PlanRequest {
  ref: string;
  /** `--path`: the folder holding the manifests. */
  path: string;
  strict?: boolean;
}

/** A live state and where it came from, or a base revision (default: the merge base of the ref with `branch`). */
export type PlanAgainst =
  | { live: Live; source: 'server' | 'data-dir'; name: string }
  | { base?: string; branch: string };

export async function planRevision(source: PlanSource, req: PlanRequest, against: PlanAgainst): Promise<PlanReport> {
  const sha = await source.resolve(req.ref);
  const rev = await source.read(sha);
  const load = (r: Revision) => loadDesired(r, source, { strict: req.strict, root: req.path });
  const loaded = await load(rev);
  const ref = { name: req.ref, sha, message: rev.message.split('\n')[0] };
  if ('live' in against) {
    return review({ ref, loaded, live: against.live.live, against: { source: against.source, name: against.name, sha: against.live.lastApplied } });
  }
  const baseSha = against.base !== undefined ? await source.resolve(against.base) : await mergeBaseWith(source, sha, against.branch);
  const base = await load(await source.read(baseSha));
  // A base revision has no nodes, pods or ReplicaSets; everything it defines counts as applied from git.
  const objects = base.objects.map((d) => d.object);
  return review({
    ref, loaded,
    live: { objects, inventory: objects.map(objectKey), nodesKnown: false },
    against: { source: 'base', name: against.base ?? `merge base with ${against.branch}`, sha: baseSha },
  });
}

async function mergeBaseWith(source: PlanSource, sha: string, branch: string): Promise<string> {
  const tip = await source.resolve(branch);
  const base = await source.mergeBase(sha, tip);
  if (!base) throw new Error(`${sha.slice(0, 7)} and ${branch} have no common history: pass --base <ref>, --server <url> or --data-dir <dir>`);
  return base;
}
