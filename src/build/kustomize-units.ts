// Which folders are built, and which files they own. A folder holding a kustomization file is a unit: nothing
// below it loads alone (as Flux's generated kustomization adds such a folder whole and does not descend into it).
// A unit referenced by another one (a base, a component) is built only inside it, as Flux builds only the top
// kustomization; so is a unit nested under another one, whether referenced or not (a warning names it when not).
// An outermost unit referenced only by units that are not built (a cycle, say) is built on its own.
import { posix } from 'node:path';
import type { Issue } from '../model/issue.ts';
import { KUSTOMIZATION_FILES, isKustomizationFile, readKustomization, type Kustomization } from './kustomization-file.ts';
import { remoteKind } from './remote-ref.ts';
import type { SourceIgnore } from './source-ignore.ts';
import type { SourceTree } from './source-tree.ts';

export interface Unit {
  /** Repository path of the folder ('' = the root). */
  dir: string;
  /** Repository path of its kustomization file. */
  file: string;
  kustomization: Kustomization;
  /** Folders it builds from (bases, components, plugin folders), directly. */
  deps: string[];
  /** Problems found before running kustomize: each stops the build of every unit that includes this one. */
  issues: Issue[];
}

export interface UnitPlan {
  /** Units to build, each with every folder it reads (itself included). */
  tops: { unit: Unit; closure: Unit[] }[];
  /** Whether a file under `--path` belongs to a unit (it is not loaded alone). */
  owned(path: string): boolean;
  /** Warnings about units that are not built. */
  issues: Issue[];
}

const dirOf = (p: string) => (p.includes('/') ? p.slice(0, p.lastIndexOf('/')) : '');
const under = (path: string, dir: string) => dir === '' || path === dir || path.startsWith(dir + '/');

/** `files`: the kustomization files read under `--path` (after `.sourceignore`), with their texts. */
export async function planUnits(files: { path: string; content: string }[], tree: SourceTree, ignore: SourceIgnore): Promise<UnitPlan> {
  const text = new Map(files.map((f) => [f.path, f.content]));
  const units = new Map<string, Promise<Unit | undefined>>();
  const unitAt = (dir: string): Promise<Unit | undefined> => {
    let u = units.get(dir);
    if (!u) {
      u = readUnit(dir, tree, text, ignore);
      units.set(dir, u);
    }
    return u;
  };

  const local = [...new Set(files.filter((f) => isKustomizationFile(f.path)).map((f) => dirOf(f.path)))].sort();
  const found = (await Promise.all(local.map(unitAt))).filter((u): u is Unit => !!u);
  const closureOf = async (u: Unit): Promise<Unit[]> => {
    const seen = new Map<string, Unit>([[u.dir, u]]);
    const queue = [...u.deps];
    while (queue.length) {
      const d = queue.shift()!;
      if (seen.has(d)) continue;
      const dep = await unitAt(d);
      if (!dep) continue;
      seen.set(d, dep);
      queue.push(...dep.deps);
    }
    return [...seen.values()];
  };

  const referenced = new Set(found.flatMap((u) => u.deps));
  const nestedIn = (u: Unit) => found.find((o) => o !== u && under(u.dir, o.dir) && u.dir !== o.dir);
  const tops: UnitPlan['tops'] = [];
  const covered = new Set<string>();
  const addTop = async (u: Unit) => {
    const closure = await closureOf(u);
    tops.push({ unit: u, closure });
    for (const c of closure) covered.add(c.dir);
  };
  const outermost = found.filter((u) => !nestedIn(u));
  for (const u of outermost) if (!referenced.has(u.dir)) await addTop(u);
  // Referenced only by what is not built (a cycle, a nested kustomization nothing uses): built on its own, in
  // path order, so nothing outermost is silently dropped (kustomize reports a cycle itself).
  for (const u of outermost) if (!covered.has(u.dir)) await addTop(u);
  const issues: Issue[] = [];
  for (const u of found) {
    const outer = nestedIn(u);
    if (outer && !covered.has(u.dir)) {
      issues.push({ severity: 'warning', file: u.file, line: 1, column: 1, message: `not built: it is inside ${outer.dir || 'the root folder'}, whose kustomization does not reference it (only the outermost kustomization of a folder is built, as Flux does)` });
    }
  }
  const ownedDirs = [...new Set([...found.map((u) => u.dir), ...referenced])];
  return { tops, owned: (path) => ownedDirs.some((d) => under(path, d)), issues };
}

/** The kustomization in `dir`, with its references checked; undefined when the folder holds none. */
async function readUnit(dir: string, tree: SourceTree, text: Map<string, string>, ignore: SourceIgnore): Promise<Unit | undefined> {
  const file = await kustomizationFileIn(dir, tree, text);
  if (!file) return undefined;
  const kustomization = readKustomization(text.get(file) ?? (await tree.read(file)), file);
  const issues: Issue[] = [];
  const at = (r: { line: number; column: number; field?: string }, message: string) =>
    issues.push({ severity: 'error', file, line: r.line, column: r.column, field: r.field, message });
  if (kustomization.problem) at(kustomization.problem, kustomization.problem.message);

  const deps: string[] = [];
  for (const ref of kustomization.refs) {
    const remote = remoteKind(ref.value);
    const refuse = (why: string) => at(ref, `${JSON.stringify(ref.value)} ${why}`);
    if (remote && remote !== 'a remote repository') { refuse(`is ${remote}: remote bases are refused, a sync never reaches the network; copy it into the repository`); continue; }
    if (ref.value.startsWith('/')) { refuse('is an absolute path; use a path relative to the kustomization'); continue; }
    const target = posix.normalize(posix.join(dir || '.', ref.value)).replace(/\/$/, '');
    if (target === '..' || target.startsWith('../')) { refuse('leaves the repository'); continue; }
    if (!ref.follow) continue; // files of the folder itself: kustomize checks them, and its restrictor keeps them inside
    const path = target === '.' ? '' : target;
    const entry = await tree.entry(path);
    if (!entry) {
      refuse(remote ? `is ${remote}: remote bases are refused, a sync never reaches the network; copy it into the repository` : 'is not in the repository');
      continue;
    }
    if (entry.type === 'symlink') { refuse('is a symbolic link; symlinks are refused in builds'); continue; }
    if (ignore.ignores(path, entry.type === 'tree')) { refuse('is excluded by .sourceignore'); continue; }
    if (entry.type === 'tree') {
      deps.push(path);
      if (!(await kustomizationFileIn(path, tree, text))) refuse('is a folder without a kustomization file');
    }
  }
  return { dir, file, kustomization, deps, issues };
}

/** The kustomization file of `dir`, in kustomize's order of names; undefined when there is none. */
async function kustomizationFileIn(dir: string, tree: SourceTree, text: Map<string, string>): Promise<string | undefined> {
  for (const name of KUSTOMIZATION_FILES) {
    const p = dir ? `${dir}/${name}` : name;
    if (text.has(p) || (await tree.entry(p))?.type === 'blob') return p;
  }
  return undefined;
}
