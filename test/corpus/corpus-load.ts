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

export const CORPUS = join(fileURLToPath(new URL('../../', import.meta.url)), '../shared/corpus');
export const corpusPresent = () => existsSync(CORPUS);

interface File { path: string; content: string }

const walk = (d: string): string[] => readdirSync(d).flatMap((f) => { const p = join(d, f); return statSync(p).isDirectory() ? walk(p) : [p]; });
const KUSTOMIZATION = /(^|\/)(kustomization\.ya?ml|Kustomization)$/;

/** The documents of a file as plain values (empty when it does not parse). */
const valuesOf = (f: File) => parseYaml(f.content, f.path, 100).docs.map((d) => d.value as any);

export interface FolderResult { folder: string; documents: number; objects: KubeObject[]; errors: Issue[] }

export function loadCorpusFolders(): FolderResult[] {
  const files: File[] = walk(CORPUS).map((p) => ({ path: relative(CORPUS, p), content: readFileSync(p, 'utf8') }));
  const yamlFiles = files.filter((f) => /\.ya?ml$/i.test(f.path));
  const byFolder = new Map<string, File[]>();
  for (const f of yamlFiles) byFolder.set(dirname(f.path), [...(byFolder.get(dirname(f.path)) ?? []), f]);
  const bySource = new Map<string, any[]>();
  for (const f of yamlFiles) {
    const src = f.path.split('/')[0];
    bySource.set(src, [...(bySource.get(src) ?? []), ...valuesOf(f).map((value) => ({ value, file: f.path }))]);
  }
  const out: FolderResult[] = [];
  for (const [folder, own] of [...byFolder].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (files.some((f) => dirname(f.path) === folder && KUSTOMIZATION.test(f.path))) continue;
    const others = (bySource.get(folder.split('/')[0]) ?? []).filter((d) => dirname(d.file) !== folder).map((d) => d.value);
    const ownNamespaces = new Set(own.flatMap(valuesOf).filter((v) => v?.kind === 'Namespace').map((v) => v.metadata?.name));
    const namespaces = [...new Map(others.filter((v) => v?.kind === 'Namespace' && v.apiVersion === 'v1' && !ownNamespaces.has(v.metadata?.name))
      .map((v) => [v.metadata.name, v])).values()];
    const crds = others.filter((v) => v?.kind === 'CustomResourceDefinition' && v.apiVersion === 'apiextensions.k8s.io/v1');
    const nsFile = { path: `${folder}/.namespaces-of-the-source.yaml`, content: namespaces.map((n) => JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: n.metadata.name } })).join('\n---\n') };
    const r = loadManifests([...own, nsFile], { appliedCrds: crds.map((object) => ({ object, fromGit: false })) });
    const documents = own.reduce((n, f) => n + valuesOf(f).length, 0);
    out.push({ folder, documents, objects: r.objects.filter((o) => o.file !== nsFile.path).map((o) => o.object), errors: r.issues.filter((i) => i.severity === 'error' && i.file !== nsFile.path) });
  }
  return out;
}
