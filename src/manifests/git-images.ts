// `image: git:<dir>` names a directory of the repository. Pinning it to the directory's tree oid
// (`git:<dir>@<oid>`) makes images content-addressed: a commit that changes the app's code changes the pod
// template and so rolls it out, and a revert brings back the very same tree.
import { deepFreeze } from '../model/deep-freeze.ts';
import type { Issue } from '../model/issue.ts';
import type { KubeObject } from '../model/object.ts';
import { parsePinnedGitImage } from '../model/git-image.ts';
import { issueAt } from './doc.ts';
import type { Path } from './paths.ts';
import type { DesiredObject } from './types.ts';
import { objectAt, podSpecPath } from './volume-rules.ts';

interface ImageRef { object: DesiredObject; index: number; path: Path; dir: string | undefined; problem?: string }

/** `apps/web`, `./apps/web/` → `apps/web`; undefined when it leaves the repository. */
function normalizeDir(dir: string): string | undefined {
  const parts = dir.split('/').filter((s) => s && s !== '.');
  if (dir.startsWith('/') || parts.includes('..') || !parts.length) return undefined;
  return parts.join('/');
}

/** Every `git:` image not pinned by hand, read once for each of the loader's shared objects (twice a commit before). */
function* imageRefs(objects: DesiredObject[]): Iterable<ImageRef> {
  for (let index = 0; index < objects.length; index++) for (const ref of refsIn(objects[index].object)) yield { object: objects[index], index, ...ref };
}

type Ref = Omit<ImageRef, 'object' | 'index'>;
const NONE: readonly Ref[] = Object.freeze([]);
/** The git images of a frozen object (the loader's shared ones): an unchanged object is the same from commit to commit. */
const refsOfFrozen = new WeakMap<KubeObject, readonly Ref[]>();

function refsIn(o: KubeObject): readonly Ref[] {
  const hit = refsOfFrozen.get(o);
  if (hit) return hit;
  // Every kind with a pod template (a CronJob's Jobs and a DaemonSet's pods run git images too).
  const at = podSpecPath(o.kind);
  const spec = at && objectAt(o, at);
  let refs: Ref[] | undefined;
  for (const list of CONTAINER_LISTS) {
    const containers: { image?: unknown }[] | undefined = spec?.[list];
    for (let i = 0; i < (containers?.length ?? 0); i++) {
      const image = containers![i].image;
      const m = typeof image === 'string' && image.startsWith('git:') ? GIT.exec(image) : null;
      if (!m || parsePinnedGitImage(image as string)) continue; // not a git image, or pinned by hand
      const dir = normalizeDir(m[1]);
      const problem = dir ? undefined : `"${image}": the directory must be a path inside the repository, like git:apps/web`;
      (refs ??= []).push({ path: [...at!, list, i, 'image'], dir, problem });
    }
  }
  const out = refs ?? NONE;
  if (Object.isFrozen(o)) refsOfFrozen.set(o, out);
  return out;
}
const CONTAINER_LISTS = ['initContainers', 'containers'] as const;
const GIT = /^git:(.*)$/;

/** The directories the objects' git images name. */
export function gitImageDirs(objects: DesiredObject[]): string[] {
  return [...new Set([...imageRefs(objects)].flatMap((r) => (r.dir ? [r.dir] : [])))].sort();
}

/**
 * Rewrites each `git:<dir>` image to `git:<dir>@<tree oid>` (a frozen object's in a copy that replaces its entry in
 * `objects`), using `oids` (dir → oid, undefined when the directory is missing at the revision). Returns an error
 * for each image that cannot be pinned.
 */
export function pinGitImages(objects: DesiredObject[], oids: Map<string, string | undefined>, revision: string): Issue[] {
  const issues: Issue[] = [];
  const replaced = new Map<DesiredObject, DesiredObject>(), reused = new Set<DesiredObject>();
  const made = new Map<DesiredObject, KubeObject>();
  const pinKey = [...oids].map(([d, oid]) => `${d}@${oid}`).join('\n');
  for (const ref of [...imageRefs(objects)]) {
    const doc = { file: ref.object.file, value: ref.object.object, positions: ref.object.positions, kind: ref.object.object.kind, name: ref.object.object.metadata.name };
    const oid = ref.dir && oids.get(ref.dir);
    if (ref.problem || !oid) {
      issues.push(issueAt(doc, 'error', ref.path, ref.path, ref.problem ?? `"git:${ref.dir}": no directory ${ref.dir} in the repository at ${revision.slice(0, 7)}`));
      continue;
    }
    // A shared (frozen) object of the loader's is copied once, then written into; the same pins give the same copy
    // (made by an earlier load, already pinned), so an unchanged object keeps its identity from commit to commit.
    // The loader's entry is replaced in `objects`, not written into: a later load hands it out again.
    if (Object.isFrozen(ref.object.object) && !replaced.has(ref.object)) {
      const original = ref.object.object;
      const hit = pinned.get(original);
      const copy = hit?.key === pinKey ? hit.copy : structuredClone(original);
      if (hit?.key === pinKey) reused.add(ref.object);
      else made.set(ref.object, original);
      const entry = { ...ref.object, object: copy };
      replaced.set(ref.object, entry);
      objects[ref.index] = entry;
    }
    if (reused.has(ref.object)) continue;
    const container = ref.path.slice(0, -1).reduce<any>((node, seg) => node[seg], (replaced.get(ref.object) ?? ref.object).object);
    container.image = `git:${ref.dir}@${oid}`;
  }
  for (const [d, original] of made) pinned.set(original, { key: pinKey, copy: deepFreeze(replaced.get(d)!.object) });
  return issues;
}

/** A shared object's pinned copy, by the pins it was made with. */
const pinned = new WeakMap<KubeObject, { key: string; copy: KubeObject }>();

