// Plans one ref of a repository: loads it as `serve` would, then reviews it against a live state or a base revision.
import type { Revision } from '../source/revision.ts';
import { objectKey } from '../model/key.ts';
import { registerCrds } from '../model/custom-kinds.ts';
import { loadDesired, type TreeLookup } from '../sync/desired.ts';
import type { Builder } from '../build/builder.ts';
import type { Preload } from '../manifests/load-manifests.ts';
import type { LoadResult } from '../manifests/types.ts';
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
  /** serve --allow-host-path. */
  allowHostPath?: string[];
  /** Keeps kustomize's output between the ref and its base, and across runs (the CLI: the user's cache folder). */
  builder?: Builder;
  /** The parse workers the source's read hands the ref's files to (loadDesired). */
  preload?: Preload;
}

/** A live state and where it came from, or a base revision (default: the merge base of the ref with `branch`). */
export type PlanAgainst =
  | { live: Live; source: 'server' | 'data-dir'; name: string }
  | { base?: string; branch: string };

/** `against` may be made once the ref is read (the CLI reads a data folder's state while the ref's files are parsed). */
export async function planRevision(source: PlanSource, req: PlanRequest, againstOf: PlanAgainst | (() => Promise<PlanAgainst>)): Promise<PlanReport> {
  const sha = await source.resolve(req.ref);
  const rev = await source.read(sha);
  const against = typeof againstOf === 'function' ? await againstOf() : againstOf;
  // Custom resources validate against the CRDs that run, as `serve` would (a base revision has none).
  const inventory = new Set('live' in against ? against.live.live.inventory : []);
  const appliedCrds = 'live' in against
    ? against.live.live.objects.filter((o) => o.kind === 'CustomResourceDefinition').map((object) => ({ object, fromGit: inventory.has(objectKey(object)) }))
    : [];
  const load = (r: Revision) => loadDesired(r, source, { strict: req.strict, allowHostPath: req.allowHostPath, root: req.path, appliedCrds, shared: true, preload: req.preload }, req.builder);
  const loaded = await load(rev);
  registerCrds([...appliedCrds.map((c) => c.object), ...loaded.objects.map((d) => d.object).filter((o) => o.kind === 'CustomResourceDefinition')]);
  const ref = { name: req.ref, sha, message: rev.message.split('\n')[0] };
  if ('live' in against) {
    const report = review({ ref, loaded, message: rev.message, live: against.live.live, against: { source: against.source, name: against.name, sha: against.live.lastApplied } });
    return withImageFiles(report, source, loaded.objects.map((d) => d.object), against.live.live.objects);
  }
  const baseSha = against.base !== undefined ? await source.resolve(against.base) : await mergeBaseWith(source, sha, against.branch);
  const base = await readBase(source, baseSha, load);
  // A base revision has no nodes, pods or ReplicaSets; everything it defines counts as applied from git.
  const objects = base.objects.map((d) => d.object);
  const report = review({
    ref, loaded, message: rev.message,
    live: { objects, inventory: objects.map(objectKey), nodesKnown: false }, before: base,
    against: { source: 'base', name: against.base ?? `merge base with ${against.branch}`, sha: baseSha },
  });
  const baseErrors = base.issues.filter((i) => i.severity === 'error').length;
  if (baseErrors && report.valid) {
    // serve refused the base too, so what runs is older still: the comparison is only as good as what loaded.
    report.warnings.unshift({ code: 'BaseInvalid', message: `the base revision ${baseSha.slice(0, 7)} has ${baseErrors} validation error${baseErrors === 1 ? '' : 's'}: `
      + 'serve would still run an earlier revision; compared with the objects of the base that loaded (use --server or --data-dir to compare with what runs)' });
  }
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
    const images = (await Promise.all(gitImageMoves(l, d).map(async (m) => {
      const files = await treeChangesIfKnown(source, m.from, m.to);
      return files ? [{ ...m, files: files.map((f) => ({ ...f, path: m.dir ? `${m.dir}/${f.path}` : f.path })) }] : [];
    }))).flat();
    if (images.length) change.images = images;
  }
  return report;
}

/**
 * The files between two trees, or undefined when this clone lacks the live one: a CI job's shallow clone
 * (`actions/checkout` fetches one commit) planned against a server. The list is an aid to the reviewer, the
 * diff still shows both tree oids: its absence must not fail the plan.
 */
async function treeChangesIfKnown(source: PlanSource, from: string, to: string) {
  try {
    return await source.treeChanges(from, to);
  } catch {
    return undefined;
  }
}

/**
 * The base's desired state. A base without the `--path` folder (before the pull request that adds it) defines
 * nothing, so every object of the ref is a create; any other failure to read it fails the plan.
 */
async function readBase(source: PlanSource, sha: string, load: (r: Revision) => Promise<LoadResult>): Promise<LoadResult> {
  try {
    return await load(await source.read(sha));
  } catch (e) {
    if ((e as { reason?: string }).reason === 'PathNotFound') return { objects: [], issues: [] };
    throw e;
  }
}

async function mergeBaseWith(source: PlanSource, sha: string, branch: string): Promise<string> {
  const tip = await source.resolve(branch);
  const base = await source.mergeBase(sha, tip);
  if (!base) throw new Error(`${sha.slice(0, 7)} and ${branch} have no common history: pass --base <ref>, --server <url> or --data-dir <dir>`);
  return base;
}
