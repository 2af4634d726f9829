// Reads the files a revision is loaded and built from (YAML, kustomize's extension-less `Kustomization`,
// `.sourceignore`), incrementally: only the subtrees and blobs whose oid changed since the last read.
import fs from 'node:fs';
import git from 'isomorphic-git';
import type { SourceFile } from './revision.ts';
import type { Issue } from '../model/issue.ts';
import { SourceError, describe } from './errors.ts';
import { decodeText, type FileProblem } from './decode-text.ts';

export interface ReadStats {
  /** tree objects read */
  treesRead: number;
  /** blobs whose content was read */
  blobsRead: number;
}

/** One folder as last read: its tree oid and every file read below it. Unchanged folders are reused whole. */
interface Folder {
  oid: string;
  files: SourceFile[];
  /** Warnings for this folder and those below it. */
  warnings: Issue[];
  children: Map<string, Folder>;
}

/** Manifests, and what decides how they load. Other inputs of a kustomize build are exported when it runs. */
export const READ = /(?:\.ya?ml|(?:^|\/)Kustomization|(?:^|\/)\.sourceignore)$/;
const SYMLINK_MODE = '120000';
/** Blob contents by oid, from the last read. */
type Text = { content: string; problem?: FileProblem };
interface Known { get(oid: string): Text | undefined; set(oid: string, text: Text): void }
const byPath = (a: SourceFile, b: SourceFile) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

export class TreeReader {
  readonly stats: ReadStats = { treesRead: 0, blobsRead: 0 };
  /** The last tree read: the base of the next, incremental, read. */
  private last?: Folder;

  /** `cache` is isomorphic-git's cache object (parsed pack indexes), shared by all reads of one repository. */
  constructor(private gitdir: string, private cache: object) {}

  /** Warnings of the last tree read: submodules not followed, names that differ only in case. */
  warnings(): Issue[] {
    return this.last?.warnings ?? [];
  }

  /** oid of the tree at `dir` (repo-relative, '' = root) inside `rootTree`. */
  async treeAt(rootTree: string, dir: string): Promise<string> {
    let oid = rootTree;
    let walked = '';
    for (const name of dir.split('/').filter(Boolean)) {
      const entries = await this.readTree(oid, walked);
      walked = walked ? `${walked}/${name}` : name;
      const entry = entries.find((e) => e.path === name);
      if (entry?.type !== 'tree') throw new SourceError('PathNotFound', `path '${walked}' is ${entry ? 'not a directory' : 'missing'}`);
      oid = entry.oid;
    }
    return oid;
  }

  /** `*.yaml`, `*.yml`, `Kustomization` and `.sourceignore` files in `tree`, which sits at `dir` in the repository; sorted by path. */
  async files(tree: string, dir: string): Promise<SourceFile[]> {
    const last = this.last;
    // Blobs are content-addressed: a file moved or copied keeps its oid, so its content is reused too.
    // Built on the first blob not read before (none for a commit outside the manifests).
    let map: Map<string, Text> | undefined;
    const known = { get: (oid: string) => (map ??= new Map(last?.files.map((f) => [f.oid, f]))).get(oid), set: (oid: string, t: Text) => map!.set(oid, t) };
    const folder = await this.folder(tree, dir, last, known);
    this.last = folder;
    return folder.files;
  }

  /**
   * Reads the folder at `dir` unless `prev` (the same folder, last read) has the same oid. Only folders on the
   * path to a change are listed again, and only changed blobs are read.
   */
  private async folder(oid: string, dir: string, prev: Folder | undefined, known: Known): Promise<Folder> {
    if (prev?.oid === oid) return prev;
    const children = new Map<string, Folder>();
    const files: SourceFile[] = [];
    const warnings: Issue[] = [];
    const warn = (file: string, message: string) => warnings.push({ severity: 'warning', file, line: 1, column: 1, message });
    const folded = new Map<string, string>();
    for (const entry of await this.readTree(oid, dir)) {
      const path = dir ? `${dir}/${entry.path}` : entry.path;
      // On a case-insensitive file system (macOS, Windows) a checkout writes both to one file.
      const other = folded.get(entry.path.toLowerCase());
      if (other !== undefined) warn(path, `'${other}' and '${path}' differ only in case: a checkout on a case-insensitive file system keeps only one of them`);
      else folded.set(entry.path.toLowerCase(), path);
      if (entry.type === 'commit') {
        // Argo CD and Flux do not fetch submodules by default either; say so rather than skip them silently.
        warn(path, `'${path}' is a git submodule (commit ${entry.oid.slice(0, 7)}): submodules are not fetched, its manifests are not applied`);
      } else if (entry.type === 'tree') {
        const child = await this.folder(entry.oid, path, prev?.children.get(entry.path), known);
        children.set(entry.path, child);
        for (const f of child.files) files.push(f);
        for (const w of child.warnings) warnings.push(w);
      } else if (entry.type === 'blob' && READ.test(entry.path)) {
        files.push({ path, oid: entry.oid, symlink: entry.mode === SYMLINK_MODE, ...(await this.content(entry.oid, path, known)) });
      }
    }
    return { oid, files: files.sort(byPath), warnings, children };
  }

  private async readTree(oid: string, path: string) {
    const { tree } = await corrupt(`tree ${oid} at '${path || '/'}'`, () => git.readTree({ fs, gitdir: this.gitdir, oid, cache: this.cache }));
    this.stats.treesRead++;
    return tree;
  }

  private async content(oid: string, path: string, known: Known): Promise<Text> {
    let text = known.get(oid);
    if (text === undefined) {
      const { blob } = await corrupt(`blob ${oid} at '${path}'`, () => git.readBlob({ fs, gitdir: this.gitdir, oid, cache: this.cache }));
      this.stats.blobsRead++;
      text = decodeText(blob);
      known.set(oid, text);
    }
    return text.problem ? { content: text.content, problem: text.problem } : { content: text.content };
  }
}

/** A missing or unreadable object (deleted file, bad zlib data, wrong type) is a CorruptObject naming it. */
async function corrupt<T>(what: string, read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (e) {
    throw new SourceError('CorruptObject', `cannot read ${what}: ${describe(e)}`, { cause: e });
  }
}
