// What differs between two trees (or commits), walking both at once and skipping every subtree whose oid is the same.
import fs from 'node:fs';
import git, { TREE } from 'isomorphic-git';

export interface TreeChange {
  /** Of a file (or link, or submodule), relative to the trees' root; folders are never listed themselves. */
  path: string;
  change: 'added' | 'deleted' | 'modified';
}

/**
 * `a` and `b` are commit or tree oids (or refs). As `git diff --name-status` lists them, sorted by path: a file
 * replaced by a folder (or back) is the file deleted and the folder's files added (or the other way round).
 */
export async function treeChanges(gitdir: string, cache: object, a: string, b: string): Promise<TreeChange[]> {
  const changes: TreeChange[] | undefined = await git.walk({
    fs,
    gitdir,
    cache,
    trees: [TREE({ ref: a }), TREE({ ref: b })],
    map: async (path, [x, y]) => {
      if ((await x?.oid()) === (await y?.oid()) && (await x?.mode()) === (await y?.mode())) return null; // same: skip below
      const [xTree, yTree] = [(await x?.type()) === 'tree', (await y?.type()) === 'tree'];
      // A folder on either side: its files are walked below; a file on the other side is a change of its own.
      if (xTree && y && !yTree) return { path, change: 'added' };
      if (yTree && x && !xTree) return { path, change: 'deleted' };
      if (xTree || yTree) return undefined;
      return { path, change: !x ? 'added' : !y ? 'deleted' : 'modified' };
    },
  });
  return changes ?? []; // undefined when even the root trees are the same
}
