// Writes a git tree out as plain files: how a `git:<dir>@<tree oid>` image becomes a folder a container runs in.
import fs from 'node:fs';
import { chmod, mkdir, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import git from 'isomorphic-git';
import { SourceError, describe } from './errors.ts';

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

/** Missing or unreadable objects become a SourceError naming what was being read. */
async function read<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof SourceError) throw e;
    throw new SourceError('CorruptObject', `cannot read ${what}: ${describe(e)}`, { cause: e });
  }
}
