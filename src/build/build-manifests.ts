// The build step, before loading: a revision's files → the files the loader reads. Plain YAML passes through;
// each kustomization at the top of a folder is built with kustomize into one YAML text named
// `<folder>/kustomization.built.yaml`, whose lines are those `kubectl kustomize <folder>` prints. Nothing is
// built that reaches the network, leaves the repository or is excluded by `.sourceignore`.
import { createHash } from 'node:crypto';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Issue } from '../model/issue.ts';
import type { ManifestFile } from '../manifests/types.ts';
import { parseYaml } from '../manifests/parse.ts';
import { toYaml } from '../manifests/to-yaml.ts';
import { defaultBuilder, type Builder } from './builder.ts';
import { originAt, prepareOutput, type BuiltOutput } from './built-output.ts';
import { INSTALL_HINT, KustomizeError, type KustomizeTool } from './kustomize-tool.ts';
import { planUnits, type Unit } from './kustomize-units.ts';
import { isKustomizationFile } from './kustomization-file.ts';
import { byPath, fileChanges, inPathOrder, withChanges } from '../model/file-changes.ts';
import { SOURCEIGNORE, SourceIgnore, type IgnoreFile } from './source-ignore.ts';
import type { SourceTree } from './source-tree.ts';

export const BUILT_NAME = 'kustomization.built.yaml';

export interface BuildOptions {
  /** `--path`: '' for the whole repository. */
  root?: string;
  builder?: Builder;
}

export interface BuildResult {
  /** What the loader reads: the YAML files no kustomization owns, and one built file per kustomization. */
  files: ManifestFile[];
  /** Of those, the built ones. */
  built: ManifestFile[];
  /** The build's own errors (file: the kustomization file) and warnings. */
  issues: Issue[];
  /** Adds to each issue about a built object the file it came from, when kustomize said so. */
  explain(issues: Issue[]): Issue[];
}

const YAML = /\.ya?ml$/i;
const normalize = (root: string) => root.split('/').filter((s) => s && s !== '.').join('/');

export async function buildManifests(files: ManifestFile[], tree: SourceTree, opts: BuildOptions = {}): Promise<BuildResult> {
  const root = normalize(opts.root ?? '');
  const builder = opts.builder ?? defaultBuilder;
  const last = lastBuilds.get(builder);
  lastBuilds.delete(builder);
  const changed = last && last.root === root ? await withChanged(builder, last, files, tree) : undefined;
  if (changed) return changed;
  // The files that decide how the others load, found in one pass: 10,000 files went through six a commit.
  const ignoreTexts: ManifestFile[] = [], kustomizations: ManifestFile[] = [];
  for (const f of files) {
    if (isIgnoreFile(f.path)) { if (!f.symlink) ignoreTexts.push(f); } else if (isKustomizationFile(f.path)) kustomizations.push(f);
  }
  const ignoreFiles = await sourceIgnores(ignoreTexts, tree, root);
  const ignore = new SourceIgnore(ignoreFiles);
  // Nothing to build and no .sourceignore of its own: the next build can be this one's output with its changes.
  if (!ignoreTexts.length && !kustomizations.length) {
    const ordered = inPathOrder(files); // and no path twice: else no base for the next build
    const out = files.filter((f) => loadsAlone(f, (path) => ignore.ignores(path)));
    const result = plainBuild(ordered ? out : out.sort(byPath));
    if (ordered) lastBuilds.set(builder, { root, input: files, output: result.files, rules: rulesOf(ignoreFiles) });
    return result;
  }
  const ignored = ignoredPaths(ignore, ignoreFiles);
  const plan = await planUnits(kustomizations.filter((f) => !ignored(f.path)), tree, ignore);

  const out: ManifestFile[] = files.filter((f) => loadsAlone(f, (path) => plan.owned(path) || ignored(path)));
  const issues: Issue[] = [...plan.issues];
  const built = new Map<string, BuiltOutput>();
  const builtFiles: ManifestFile[] = [];

  const jobs = plan.tops.map(({ unit, closure }) => async () => {
    const problems = closure.flatMap((u) => u.issues);
    if (problems.length) { issues.push(...problems); return; }
    const tool = await builder.tool();
    if (!tool) {
      issues.push(buildIssue(unit, `cannot build ${where(unit)}: neither kustomize nor kubectl is on PATH; ${INSTALL_HINT}`));
      return;
    }
    try {
      const stdout = await buildUnit(unit, closure, tree, ignoreFiles, builder, tool);
      const output = prepareOutput(stdout, unit.dir, unit.kustomization.originAnnotations);
      const path = unit.dir ? `${unit.dir}/${BUILT_NAME}` : BUILT_NAME;
      built.set(path, output);
      const file = { path, content: output.content };
      out.push(file);
      builtFiles.push(file);
    } catch (e) {
      if (!(e instanceof KustomizeError)) throw e;
      const root = (e as { root?: string }).root;
      // Paths in kustomize's message are inside the temporary folder: shown as repository paths.
      const message = root ? e.message.split(`${root}/`).join('').split(root).join('.') : e.message;
      issues.push({ ...buildIssue(unit, `${tool.name} ${where(unit)} failed: ${message}`), ...placeOf(message, unit, closure) });
    }
  });
  await pool(jobs, 2);

  return {
    files: inPathOrder(out) ? out : out.sort(byPath), // a source's files come sorted by path: only built ones are not
    built: builtFiles,
    issues,
    explain: (list) => list.map((i) => {
      // Only issues about an object: one about the whole built file (its size, say) has no single origin.
      const output = i.kind || i.field ? built.get(i.file) : undefined;
      const origin = output && originAt(output, i.line);
      return origin ? { ...i, message: `${i.message} (from ${origin})` } : i;
    }),
  };
}

const where = (u: Unit) => (u.dir || '.');

/**
 * A builder's last build of plain files (no kustomization, no .sourceignore under --path), by what it was given: the
 * next of the same root differs by a few files (fileChanges), and its output is this one's with them (withChanges),
 * rather than 10,000 files tested again (~5 ms a commit here).
 */
interface PlainBuild { root: string; input: ManifestFile[]; output: ManifestFile[]; rules: string }
const lastBuilds = new WeakMap<Builder, PlainBuild>();

/** The build of `files` made from `last`'s, when only plain files changed and the .sourceignore files above stand. */
async function withChanged(builder: Builder, last: PlainBuild, files: ManifestFile[], tree: SourceTree): Promise<BuildResult | undefined> {
  const changes = fileChanges(last.input, files);
  if (!changes) return undefined;
  const gone = changes.gone.map((i) => last.input[i]), come = changes.come.map((j) => files[j]);
  if ([...gone, ...come].some((f) => isIgnoreFile(f.path) || isKustomizationFile(f.path))) return undefined;
  const ignoreFiles = await sourceIgnores([], tree, last.root);
  if (rulesOf(ignoreFiles) !== last.rules) return undefined;
  const ignore = new SourceIgnore(ignoreFiles);
  const output = withChanges(last.output, gone, come.filter((f) => loadsAlone(f, (path) => ignore.ignores(path))));
  lastBuilds.set(builder, { ...last, input: files, output });
  builder.stats.fromLast++;
  return plainBuild(output);
}

const plainBuild = (files: ManifestFile[]): BuildResult => ({ files, built: [], issues: [], explain: (issues) => issues });
const rulesOf = (files: IgnoreFile[]) => files.map((f) => `${f.path}\0${f.content}`).join('\0');

/**
 * Whether `.sourceignore` drops a file, remembered while the ignore files stay the same: the same 10,000 paths
 * tested against the same rules on every commit were a tenth of a commit's cost.
 */
let verdicts: { rules: string; byPath: Map<string, boolean> } = { rules: '', byPath: new Map() };
function ignoredPaths(ignore: SourceIgnore, files: IgnoreFile[]): (path: string) => boolean {
  const rules = rulesOf(files);
  if (verdicts.rules !== rules || verdicts.byPath.size > 200_000) verdicts = { rules, byPath: new Map() };
  const known = verdicts.byPath;
  return (path) => {
    let v = known.get(path);
    if (v === undefined) known.set(path, (v = ignore.ignores(path)));
    return v;
  };
}

/**
 * The line of the reference kustomize's error is about, when it names one: a path it could not read (as a
 * repository path, in whichever kustomization of the build wrote it), or one of the top kustomization's own
 * entries as written (`accumulating resources from '../base'`). The one named last is the innermost.
 */
function placeOf(message: string, top: Unit, closure: Unit[]): Partial<Issue> {
  let best: { at: number; place: Partial<Issue> } | undefined;
  for (const u of closure) {
    for (const r of u.kustomization.refs) {
      const needles = [posix.normalize(posix.join(u.dir || '.', r.value))].filter((n) => n.includes('/'));
      if (u === top) needles.push(`'${r.value}'`, `[${r.value}]`);
      // By where the match ends: `…/base/env.txt` is about env.txt, not about the base folder it starts with.
      const at = Math.max(...needles.map((n) => { const i = message.lastIndexOf(n); return i < 0 ? -1 : i + n.length; }));
      if (at >= 0 && (!best || at > best.at)) best = { at, place: { file: u.file, line: r.line, column: r.column, field: r.field } };
    }
  }
  return best?.place ?? {};
}
const buildIssue = (u: Unit, message: string): Issue => ({ severity: 'error', file: u.file, line: 1, column: 1, message });

/** The build's output, from the cache when the same trees were built before with the same kustomize. */
async function buildUnit(unit: Unit, closure: Unit[], tree: SourceTree, ignoreFiles: IgnoreFile[], builder: Builder, tool: KustomizeTool): Promise<string> {
  const dirs = closure.map((u) => u.dir).sort();
  const oids = await Promise.all(dirs.map(async (d) => (await tree.entry(d))?.oid));
  // Bases outside --path: the .sourceignore files above them count too (those inside are part of their trees).
  const known = [...ignoreFiles];
  for (const d of dirs) {
    const segs = d ? d.split('/') : [];
    for (let n = 0; n < segs.length; n++) {
      const path = [...segs.slice(0, n), SOURCEIGNORE].join('/');
      if (!known.some((f) => f.path === path) && (await tree.entry(path))?.type === 'blob') known.push({ path, content: await tree.read(path) });
    }
  }
  const fingerprint = known.map((f) => `${f.path}\0${f.content}`).join('\0');
  // And the code that exports, filters and annotates the folders: another convergit's build (an upgraded one's, a
  // still-running serve's that plan --data-dir reads) is not this one's.
  const key = oids.every(Boolean)
    ? createHash('sha256').update([builder.fingerprint, tool.name, tool.version, unit.dir, ...dirs.map((d, i) => `${d}:${oids[i]}`), fingerprint].join('\n')).digest('hex')
    : undefined;
  const hit = key && (await builder.cache.get(key));
  if (hit !== undefined) {
    builder.stats.cached++;
    return hit;
  }
  const { stdout } = await builder.run(tool, async (tmp) => {
    // Folders inside another exported folder come with it.
    const exported = dirs.filter((d) => !dirs.some((o) => o !== d && (o === '' || d.startsWith(o + '/'))));
    for (const d of exported) await tree.exportFolder(d, join(tmp, d));
    const inside = (await ignoreFilesIn(tmp, '')).filter((f) => !known.some((k) => k.path === f.path));
    await removeIgnored(tmp, '', new SourceIgnore([...known, ...inside]));
    await writeFile(join(tmp, unit.file), withOriginAnnotations(await tree.read(unit.file)));
    return join(tmp, unit.dir);
  });
  if (key) await builder.cache.set(key, stdout);
  return stdout;
}

/** The kustomization with `buildMetadata: [originAnnotations]`, so each built object says which file it came from. */
function withOriginAnnotations(content: string): string {
  const value: any = parseYaml(content, 'kustomization', 100).docs[0]?.value ?? {};
  const meta = Array.isArray(value.buildMetadata) ? value.buildMetadata : [];
  if (meta.includes('originAnnotations')) return content;
  return toYaml({ ...value, buildMetadata: [...meta, 'originAnnotations'] });
}

/** The `.sourceignore` files of an exported folder, by repository path. */
async function ignoreFilesIn(base: string, rel: string): Promise<IgnoreFile[]> {
  const out: IgnoreFile[] = [];
  for (const e of await readdir(join(base, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...(await ignoreFilesIn(base, path)));
    else if (e.isFile() && e.name === SOURCEIGNORE) out.push({ path, content: await readFile(join(base, path), 'utf8') });
  }
  return out;
}

/** Deletes what `.sourceignore` excludes from an exported folder: kustomize must not read it either, as in Flux. */
async function removeIgnored(base: string, rel: string, ignore: SourceIgnore): Promise<void> {
  for (const e of await readdir(join(base, rel), { withFileTypes: true })) {
    const path = rel ? `${rel}/${e.name}` : e.name;
    if (ignore.ignores(path, e.isDirectory())) await rm(join(base, path), { recursive: true, force: true });
    else if (e.isDirectory()) await removeIgnored(base, path, ignore);
  }
}

/**
 * What the loader reads of a revision's own files: a YAML file not left out (`out`: owned by a kustomization, or
 * excluded by .sourceignore), or any file the source could not read (a kustomization included: the loader reports it).
 */
const loadsAlone = (f: ManifestFile, out: (path: string) => boolean) => !!f.problem || (YAML.test(f.path) && !out(f.path));
const isIgnoreFile = (path: string) => path.endsWith(SOURCEIGNORE) && (path.length === SOURCEIGNORE.length || path[path.length - SOURCEIGNORE.length - 1] === '/');

/** `.sourceignore` files under `--path` (`found`: read with the revision) and in the folders above it. */
async function sourceIgnores(files: ManifestFile[], tree: SourceTree, root: string): Promise<IgnoreFile[]> {
  const found: IgnoreFile[] = files.map((f) => ({ path: f.path, content: f.content }));
  const segs = root ? root.split('/') : [];
  for (let n = 0; n < segs.length; n++) {
    const path = [...segs.slice(0, n), SOURCEIGNORE].join('/');
    if ((await tree.entry(path))?.type === 'blob') found.push({ path, content: await tree.read(path) });
  }
  return found.sort((a, b) => a.path.split('/').length - b.path.split('/').length || (a.path < b.path ? -1 : 1));
}

async function pool(jobs: (() => Promise<void>)[], width: number): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, jobs.length) }, async () => {
    while (next < jobs.length) await jobs[next++]();
  }));
}
