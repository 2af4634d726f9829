// Writes a git tree out as plain files: how a `git:<dir>@<tree oid>` image becomes a folder a container runs in.
import fs from 'node:fs';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { SourceError, describe, errorCode } from './errors.ts';

const EXECUTABLE = '100755';
const SYMLINK = '120000';
/** Files written at once within one folder: enough to overlap reads, few enough to stay far from fd limits. */
const BATCH = 16;

export interface ExportOptions {
  gitdir: string;
  /** A tree oid. */
  oid: string;
  /** Created if missing; the tree's entries are written into it. */
  dest: string;
  /** isomorphic-git's cache object, shared with other reads of the same repository. */
  cache?: object;
}

/**
 * Writes tree `oid` under `dest`: folders recursively, 100755 blobs executable, 120000 blobs as symbolic links,
 * submodules (160000) skipped as `git archive` skips them. Throws SourceError CorruptObject when an object is missing.
 */
export async function exportTree(opts: ExportOptions): Promise<void> {
  const cache = opts.cache ?? {};
  await mkdir(opts.dest, { recursive: true });
  await writeTreeTo(opts.gitdir, opts.oid, opts.dest, '', cache);
}

async function writeTreeTo(gitdir: string, oid: string, dir: string, path: string, cache: object): Promise<void> {
  const { tree } = await read(`tree ${oid} at '${path || '/'}'`, () => git.readTree({ fs, gitdir, oid, cache }));
  for (let i = 0; i < tree.length; i += BATCH) {
    await Promise.all(tree.slice(i, i + BATCH).map(async (entry) => {
      // git refuses such names in trees it writes; a crafted repository could still hold them.
      if (entry.path === '.' || entry.path === '..' || entry.path.includes('/') || entry.path === '') {
        throw new SourceError('CorruptObject', `tree ${oid} at '${path || '/'}' has an unsafe entry name ${JSON.stringify(entry.path)}`);
      }
      const target = join(dir, entry.path);
      const entryPath = path ? `${path}/${entry.path}` : entry.path;
      if (entry.type === 'tree') {
        await mkdir(target);
        await writeTreeTo(gitdir, entry.oid, target, entryPath, cache);
      } else if (entry.type === 'blob') {
        const { blob } = await read(`blob ${entry.oid} at '${entryPath}'`, () => git.readBlob({ fs, gitdir, oid: entry.oid, cache }));
        if (entry.mode === SYMLINK) {
          await symlink(Buffer.from(blob).toString('utf8'), target);
        } else {
          await writeFile(target, blob);
          // Set explicitly: the umask must not decide whether a container's entrypoint can run.
          await chmod(target, entry.mode === EXECUTABLE ? 0o755 : 0o644);
        }
      }
      // entry.type 'commit': a submodule, which an image does not include.
    }));
  }
}

export interface TreeAtOptions {
  gitdir: string;
  /** A commit sha (or a ref such as 'main' or 'refs/heads/main'). */
  commit: string;
  /** Repository-relative folder; '' or '.' for the root. */
  path: string;
  cache?: object;
}

/** The tree oid of folder `path` at `commit`; undefined when the path is missing or not a folder. */
export async function treeOidAt(opts: TreeAtOptions): Promise<string | undefined> {
  const { gitdir } = opts;
  const cache = opts.cache ?? {};
  const commitOid = /^[0-9a-f]{40}$/.test(opts.commit)
    ? opts.commit
    : await read(`ref '${opts.commit}'`, () => git.resolveRef({ fs, gitdir, ref: opts.commit }));
  const { commit } = await read(`commit ${commitOid}`, () => git.readCommit({ fs, gitdir, oid: commitOid, cache }));
  let oid = commit.tree;
  let walked = '';
  for (const name of opts.path.split('/').filter((p) => p && p !== '.')) {
    const { tree } = await read(`tree ${oid} at '${walked || '/'}'`, () => git.readTree({ fs, gitdir, oid, cache }));
    const entry = tree.find((e) => e.path === name);
    if (entry?.type !== 'tree') return undefined;
    oid = entry.oid;
    walked = walked ? `${walked}/${name}` : name;
  }
  return oid;
}

/** Missing or unreadable objects become a SourceError naming what was being read. */
async function read<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SourceError) throw e;
    const reason = errorCode(e) === 'NotFoundError' && what.startsWith('ref') ? 'RefNotFound' : 'CorruptObject';
    throw new SourceError(reason, `cannot read ${what}: ${describe(e)}`, { cause: e });
  }
}
