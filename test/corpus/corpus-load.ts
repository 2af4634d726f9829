// Loads the upstream corpus (../shared/corpus, read in place, never copied) one application folder at a time, as
// a repository would commit it: each folder's files together, with the Namespaces and the v1 CRDs its source
// project ships elsewhere (an install step that came first). Folders holding a kustomization are built, not
// loaded file by file: the kustomize tests cover them.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadManifests } from '../../src/manifests/load-manifests.ts';
import { parseYaml } from '../../src/manifests/parse.ts';
import type { Issue } from '../../src/model/issue.ts';
import type { KubeObject } from '../../src/model/object.ts';
import { buildManifests, BUILT_NAME } from '../../src/build/build-manifests.ts';
import { Builder } from '../../src/build/builder.ts';
import { DirectoryTree } from '../build/directory-tree.ts';

const BESIDE = join(fileURLToPath(new URL('../../', import.meta.url)), '../shared/corpus');
/** The corpus: where CONVERGIT_CORPUS says, else beside the checkout, else at its usual place (a git worktree elsewhere). */
export const CORPUS = process.env.CONVERGIT_CORPUS ?? [BESIDE, '/work/shared/corpus'].find((p) => existsSync(p)) ?? BESIDE;
export const corpusPresent = () => existsSync(CORPUS);

interface File { path: string; content: string }

const walk = (d: string): string[] => readdirSync(d).flatMap((f) => { const p = join(d, f); return statSync(p).isDirectory() ? walk(p) : [p]; });
const KUSTOMIZATION = /(^|\/)(kustomization\.ya?ml|Kustomization)$/;

/** The documents of a file as plain values (empty when it does not parse). */
const valuesOf = (f: File) => parseYaml(f.content, f.path, 100).docs.map((d) => d.value as any);

/** Namespaces and v1 CRDs a source ships outside `folder`: installed before it. */
function installedBefore(bySource: Map<string, { value: any; file: string }[]>, folder: string, own: any[]) {
  const others = (bySource.get(folder.split('/')[0]) ?? []).filter((d) => dirname(d.file) !== folder && !d.file.startsWith(folder + '/')).map((d) => d.value);
  const ownNamespaces = new Set(own.filter((v) => v?.kind === 'Namespace').map((v) => v.metadata?.name));
  const namespaces = [...new Map(others.filter((v) => v?.kind === 'Namespace' && v.apiVersion === 'v1' && !ownNamespaces.has(v.metadata?.name))
    .map((v) => [v.metadata.name, v])).values()];
  const crds = others.filter((v) => v?.kind === 'CustomResourceDefinition' && v.apiVersion === 'apiextensions.k8s.io/v1');
  const nsFile = { path: `${folder}/.namespaces-of-the-source.yaml`, content: namespaces.map((n) => JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.metadata.name } })).join('\n---\n') };
  return { nsFile, appliedCrds: crds.map((object) => ({ object, fromGit: false })) };
}

/**
 * Every kustomization of the corpus that builds (test/build/corpus.test.ts lists those that cannot), its
 * output validated as `serve` would validate it.
 */
export async function loadCorpusBuilds(): Promise<FolderResult[]> {
  const tree = new DirectoryTree(CORPUS);
  const builder = new Builder();
  const out: FolderResult[] = [];
  const all = walk(CORPUS).filter((f) => /\.ya?ml$/i.test(f)).map((p) => ({ path: relative(CORPUS, p), content: readFileSync(p, 'utf8') }));
  const bySource = new Map<string, { value: any; file: string }[]>();
  for (const f of all) bySource.set(f.path.split('/')[0], [...(bySource.get(f.path.split('/')[0]) ?? []), ...valuesOf(f).map((value) => ({ value, file: f.path }))]);
  for (const source of readdirSync(CORPUS, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()) {
    const r = await buildManifests(await tree.files(source), tree, { root: source, builder });
    for (const built of r.files.filter((f) => f.path.endsWith(`/${BUILT_NAME}`))) {
      const folder = dirname(built.path);
      const { nsFile, appliedCrds } = installedBefore(bySource, folder, valuesOf(built));
      const loaded = loadManifests([built, nsFile], { appliedCrds });
      out.push({ folder, documents: valuesOf(built).length, objects: loaded.objects.filter((o) => o.file !== nsFile.path).map((o) => o.object), errors: loaded.issues.filter((i) => i.severity === 'error' && i.file !== nsFile.path) });
    }
  }
  return out;
}

export interface FolderResult { folder: string; documents: number; objects: KubeObject[]; errors: Issue[] }

export function loadCorpusFolders(): FolderResult[] {
  const files: File[] = walk(CORPUS).map((p) => ({ path: relative(CORPUS, p), content: readFileSync(p, 'utf8') }));
  const yamlFiles = files.filter((f) => /\.ya?ml$/i.test(f.path));
  const byFolder = new Map<string, File[]>();
  for (const f of yamlFiles) byFolder.set(dirname(f.path), [...(byFolder.get(dirname(f.path)) ?? []), f]);
  const bySource = new Map<string, { value: any; file: string }[]>();
  for (const f of yamlFiles) {
    const src = f.path.split('/')[0];
    bySource.set(src, [...(bySource.get(src) ?? []), ...valuesOf(f).map((value) => ({ value, file: f.path }))]);
  }
  const out: FolderResult[] = [];
  for (const [folder, own] of [...byFolder].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (files.some((f) => dirname(f.path) === folder && KUSTOMIZATION.test(f.path))) continue;
    const { nsFile, appliedCrds } = installedBefore(bySource, folder, own.flatMap(valuesOf));
    const r = loadManifests([...own, nsFile], { appliedCrds });
    const documents = own.reduce((n, f) => n + valuesOf(f).length, 0);
    out.push({ folder, documents, objects: r.objects.filter((o) => o.file !== nsFile.path).map((o) => o.object), errors: r.issues.filter((i) => i.severity === 'error' && i.file !== nsFile.path) });
  }
  return out;
}
