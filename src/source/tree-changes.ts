// What differs between two trees (or commits), walking both at once and skipping every subtree whose oid is the same.
import fs from 'node:fs';
import git, { TREE } from 'isomorphic-git';

export interface TreeChange {
  /** Relative to the trees' root. A folder replaced by a file (or back) is one change at the folder's path. */
  path: string;
  change: 'added' | 'deleted' | 'modified';
}

/** `a` and `b` are commit or tree oids (or refs). Sorted by path. */
export async function treeChanges(gitdir: string, cache: object, a: string, b: string): Promise<TreeChange[]> {
  const changes: TreeChange[] | undefined = await git.walk({
    fs,
    gitdir,
    cache,
    trees: [TREE({ ref: a }), TREE({ ref: b })],
    map: async (path, [x, y]) => {
      if ((await x?.oid()) === (await y?.oid()) && (await x?.mode()) === (await y?.mode())) return null; // same: skip below
      if ((await x?.type()) === 'tree' && (await y?.type()) === 'tree') return undefined; // look inside
      return { path, change: !x ? 'added' : !y ? 'deleted' : 'modified' };
    },
  });
  return changes ?? []; // undefined when even the root trees are the same
}
