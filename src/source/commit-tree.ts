// One commit's tree as the build step reads it (SourceTree): entries by path, file texts, folders exported.
import fs from 'node:fs';
import git from 'isomorphic-git';
import { exportTree } from './export-tree.ts';
import { decodeText } from './decode-text.ts';
import { SourceError, describe } from './errors.ts';

type Entry = { type: 'tree' | 'blob' | 'symlink' | 'submodule'; oid: string };

export class CommitTree {
  private root?: Promise<string>;
  private trees = new Map<string, Promise<{ path: string; oid: string; type: string; mode: string }[]>>();

  constructor(private gitdir: string, private cache: object, private sha: string) {}

  async entry(path: string): Promise<Entry | undefined> {
    let current: Entry = { type: 'tree', oid: await this.rootTree() };
    for (const name of path.split('/').filter(Boolean)) {
      if (current.type !== 'tree') return undefined;
      const e = (await this.listing(current.oid)).find((t) => t.path === name);
      if (!e) return undefined;
      current = { oid: e.oid, type: e.type === 'tree' ? 'tree' : e.type === 'commit' ? 'submodule' : e.mode === '120000' ? 'symlink' : 'blob' };
    }
    return current;
  }

  async read(path: string): Promise<string> {
    const e = await this.entry(path);
    if (e?.type !== 'blob') throw new SourceError('PathNotFound', `'${path}' is not a file at ${this.sha.slice(0, 7)}`);
    const { blob } = await this.wrap(`blob ${e.oid} at '${path}'`, () => git.readBlob({ fs, gitdir: this.gitdir, oid: e.oid, cache: this.cache }));
    const { content, problem } = decodeText(blob);
    if (problem) throw new SourceError('InvalidContent', `${path}:${problem.line}:${problem.column} at ${this.sha.slice(0, 7)}: ${problem.message}`);
    return content;
  }

  async exportFolder(path: string, dest: string): Promise<void> {
    const e = await this.entry(path);
    if (e?.type !== 'tree') throw new SourceError('PathNotFound', `'${path}' is not a folder at ${this.sha.slice(0, 7)}`);
    await exportTree({ gitdir: this.gitdir, oid: e.oid, dest, cache: this.cache });
  }

  /** A tree's entries, read once per commit however many paths go through it. */
  private listing(oid: string) {
    let l = this.trees.get(oid);
    if (!l) {
      l = this.wrap(`tree ${oid}`, async () => (await git.readTree({ fs, gitdir: this.gitdir, oid, cache: this.cache })).tree);
      this.trees.set(oid, l);
    }
    return l;
  }

  private rootTree(): Promise<string> {
    this.root ??= this.wrap(`commit ${this.sha}`, async () => (await git.readCommit({ fs, gitdir: this.gitdir, oid: this.sha, cache: this.cache })).commit.tree);
    return this.root;
  }

  private async wrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (e) {
      if (e instanceof SourceError) throw e;
      throw new SourceError('CorruptObject', `cannot read ${what}: ${describe(e)}`, { cause: e });
    }
  }
}
