// Plans one ref of a repository: loads it as `serve` would, then reviews it against a live state or a base revision.
import type { Revision } from '../source/revision.ts';
import { objectKey } from '../model/key.ts';
import { loadDesired, type TreeLookup } from '../sync/desired.ts';
import type { Live } from './live-sources.ts';
import type { PlanReport } from './report.ts';
import type { KubeObject } from '../model/object.ts';
import { gitImageMoves } from './image-changes.ts';
import { review } from './review.ts';

/** What planning needs from a Git source (GitSource implements it). */
export interface PlanSource extends TreeLookup {
  resolve(ref: string): Promise<string>;
  read(sha: string): Promise<Revision>;
  mergeBase(a: string, b: string): Promise<string | undefined>;
  treeChanges(a: string, b: string): Promise<{ path: string; change: 'added' | 'deleted' | 'modified' }[]>;
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
    const report = review({ ref, loaded, live: against.live.live, against: { source: against.source, name: against.name, sha: against.live.lastApplied } });
    return withImageFiles(report, source, loaded.objects.map((d) => d.object), against.live.live.objects);
  }
  const baseSha = against.base !== undefined ? await source.resolve(against.base) : await mergeBaseWith(source, sha, against.branch);
  const base = await load(await source.read(baseSha));
  // A base revision has no nodes, pods or ReplicaSets; everything it defines counts as applied from git.
  const objects = base.objects.map((d) => d.object);
  const report = review({
    ref, loaded,
    live: { objects, inventory: objects.map(objectKey), nodesKnown: false },
    against: { source: 'base', name: against.base ?? `merge base with ${against.branch}`, sha: baseSha },
  });
  return withImageFiles(report, source, loaded.objects.map((d) => d.object), objects);
}

/** Names the files behind each `git:` image that moves to another tree: what the reviewer should read. */
async function withImageFiles(report: PlanReport, source: PlanSource, desired: KubeObject[], live: KubeObject[]): Promise<PlanReport> {
  const id = (kind: string, namespace: string | undefined, name: string) => `${kind}/${namespace ?? 'default'}/${name}`;
  const byId = (objs: KubeObject[]) => new Map(objs.map((o) => [id(o.kind, o.metadata.namespace, o.metadata.name), o] as const));
  const [want, have] = [byId(desired), byId(live)];
  for (const change of report.changes) {
    const d = want.get(id(change.kind, change.namespace, change.name)), l = have.get(id(change.kind, change.namespace, change.name));
    if (change.action !== 'update' || !d || !l) continue;
    const moves = gitImageMoves(l, d);
    if (!moves.length) continue;
    change.images = await Promise.all(moves.map(async (m) => ({
      ...m,
      files: (await source.treeChanges(m.from, m.to)).map((f) => ({ ...f, path: m.dir ? `${m.dir}/${f.path}` : f.path })),
    })));
  }
  return report;
}

async function mergeBaseWith(source: PlanSource, sha: string, branch: string): Promise<string> {
  const tip = await source.resolve(branch);
  const base = await source.mergeBase(sha, tip);
  if (!base) throw new Error(`${sha.slice(0, 7)} and ${branch} have no common history: pass --base <ref>, --server <url> or --data-dir <dir>`);
  return base;
}
