// A working tree as it is on disk, uncommitted files included, read as a revision (`validate --worktree`, a
// pre-commit hook): the files git would commit (tracked ones present on disk, and untracked ones .gitignore
// does not exclude), with the same lookups the build step and git-image pinning use on a commit.
import fs from 'node:fs';
import { copyFile, lstat, mkdir, readFile, readlink, symlink } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { dirname, join, resolve } from 'node:path';
import git from 'isomorphic-git';
import type { Revision, SourceFile } from './revision.ts';
import { SourceError } from './errors.ts';
import { isRepository } from './repository.ts';
import { READ } from './tree-reader.ts';
import { DEFAULT_MAX_MANIFEST_FILES, tooManyFiles } from './manifest-limit.ts';
import { decodeText } from './decode-text.ts';

type Entry = { type: 'tree' | 'blob' | 'symlink' | 'submodule'; oid: string };

/** What stands in for a commit sha in messages about the working tree. */
export const WORKTREE = 'working tree';

export class Worktree {
  private blobOids = new Map<string, Promise<string>>();

  private constructor(readonly dir: string, private listed: string[]) {}

  /** Lists the working tree of the repository at `dir`; a bare repository has none. */
  static async open(dir: string): Promise<Worktree> {
    const root = resolve(dir);
    const gitdir = join(root, '.git');
    if (!(await isRepository(gitdir))) {
      throw new SourceError('RepositoryNotFound', (await isRepository(root)) ? `${root} is a bare repository: --worktree needs a working tree` : `${root} is not a git working tree`);
    }
    // refresh: false: reading never rewrites the index (a pre-commit hook runs while git holds index.lock).
    const rows = await git.statusMatrix({ fs, dir: root, gitdir, refresh: false });
    return new Worktree(root, rows.filter(([, , workdir]) => workdir !== 0).map(([path]) => path).sort());
  }

  /** The working tree as a revision of `path` ('' = all): its manifest, kustomization and .sourceignore files. */
  async revision(path: string, maxFiles = DEFAULT_MAX_MANIFEST_FILES): Promise<Revision> {
    const prefix = path.split('/').filter((s) => s && s !== '.').join('/');
    const wanted = this.listed.filter((p) => (!prefix || p.startsWith(prefix + '/')) && READ.test(p));
    if (wanted.length > maxFiles) throw tooManyFiles(prefix, maxFiles);
    if (prefix && !this.listed.some((p) => p.startsWith(prefix + '/'))) throw new SourceError('PathNotFound', `path '${prefix}' is missing in the working tree`);
    const files: SourceFile[] = await Promise.all(wanted.map(async (p) => {
      const link = (await lstat(join(this.dir, p))).isSymbolicLink();
      return { path: p, oid: await this.blobOid(p), symlink: link, ...(link ? { content: await readlink(join(this.dir, p)) } : decodeText(await readFile(join(this.dir, p)))) };
    }));
    return { sha: WORKTREE, tree: (await this.entry(prefix))?.oid ?? '', message: 'uncommitted working tree', author: { name: '', email: '' }, commitTime: new Date().toISOString(), files };
  }

  async entry(path: string): Promise<Entry | undefined> {
    const p = path.split('/').filter(Boolean).join('/');
    if (this.listed.includes(p)) {
      const link = (await lstat(join(this.dir, p))).isSymbolicLink();
      return { type: link ? 'symlink' : 'blob', oid: await this.blobOid(p) };
    }
    const below = this.listed.filter((f) => !p || f.startsWith(p + '/'));
    if (!below.length) return undefined;
    // Not git's tree oid (that needs every mode and the tree objects written), but it changes exactly when a file below does.
    const hash = createHash('sha1');
    for (const f of below) hash.update(`${f}\0${await this.blobOid(f)}\n`);
    return { type: 'tree', oid: hash.digest('hex') };
  }

  async read(path: string): Promise<string> {
    const { content, problem } = decodeText(await readFile(join(this.dir, path)));
    if (problem) throw new SourceError('InvalidContent', `${path}:${problem.line}:${problem.column} in the working tree: ${problem.message}`);
    return content;
  }

  async exportFolder(path: string, dest: string): Promise<void> {
    const p = path.split('/').filter(Boolean).join('/');
    for (const f of this.listed.filter((x) => !p || x.startsWith(p + '/'))) {
      const target = join(dest, p ? f.slice(p.length + 1) : f);
      await mkdir(dirname(target), { recursive: true });
      const from = join(this.dir, f);
      if ((await lstat(from)).isSymbolicLink()) await symlink(await readlink(from), target);
      else await copyFile(from, target);
    }
  }

  /** The same interface as GitSource's, for loadDesired: `sha` is always the working tree. */
  async treeOid(_sha: string, dir: string): Promise<string | undefined> {
    const e = await this.entry(dir);
    return e?.type === 'tree' ? e.oid : undefined;
  }

  revisionTree(_sha: string): Worktree {
    return this;
  }

  private blobOid(path: string): Promise<string> {
    let oid = this.blobOids.get(path);
    if (!oid) {
      oid = (async () => {
        const file = join(this.dir, path);
        const object = (await lstat(file)).isSymbolicLink() ? Buffer.from(await readlink(file)) : await readFile(file);
        return (await git.hashBlob({ object })).oid;
      })();
      this.blobOids.set(path, oid);
    }
    return oid;
  }
}
