// Rolls a branch back to an earlier commit of its first-parent history by writing revert commits, newest first,
// as `git revert --no-edit` (`-m 1` for merges) would: history stays the record of what was deployed and undone.
import fs from 'node:fs';
import { rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import git, { type ReadCommitResult } from 'isomorphic-git';
import { identityOf } from './identity.ts';
import { revertMessage, subjectOf } from './revert-message.ts';
import { RollbackError } from './rollback-error.ts';
import { compareAndSwapRef } from './update-ref.ts';
import { errorCode } from './errors.ts';
import { treeChanges, type TreeChange } from './tree-changes.ts';

export interface RevertToOptions {
  gitdir: string;
  /** The working tree, when the repository has one; it is updated only when it has `branch` checked out. */
  dir?: string;
  branch: string;
  /** The branch tip as read when the rollback started: the branch is moved only if it still points there. */
  tip: string;
  /** The commit to roll back to (a full sha). */
  target: string;
  /** Work out the reverts, write nothing. */
  dryRun?: boolean;
  /** isomorphic-git's cache object, shared with other reads of the repository. */
  cache?: object;
  /** Where GIT_AUTHOR_NAME and friends are read; default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface Revert {
  /** The revert commit; undefined in a dry run. */
  sha?: string;
  /** The commit it reverts. */
  reverts: string;
  /** Its first line, e.g. `Revert "scale web to 5"`. */
  subject: string;
  message: string;
}

export interface RollbackResult {
  branch: string;
  /** The branch tip before. */
  from: string;
  /** The branch tip after: `from` when nothing was written. */
  to: string;
  target: string;
  /** The first line of the target's message. */
  targetSubject: string;
  /** In the order written, newest reverted commit first; each revert is the parent of the next. */
  reverts: Revert[];
  /**
   * `worktree`: the branch moved and the checked-out working tree and index with it; `ref`: only the branch moved
   * (a bare repository, or another branch checked out); `none`: nothing written (nothing to do, or a dry run).
   */
  updated: 'worktree' | 'ref' | 'none';
}

/**
 * One revert commit per commit on the first-parent chain from the tip down to (excluding) the target. Reverting
 * newest first makes every revert clean: the revert of C has exactly the tree of C's first parent, so the last one
 * has the target's tree. Refuses (RollbackError) before writing anything when the target is off that chain or a
 * checked-out working tree has changes; moves the branch only if it has not moved meanwhile.
 */
export async function revertTo(opts: RevertToOptions): Promise<RollbackResult> {
  const { gitdir, cache = {}, branch, tip, target } = opts;
  const ref = `refs/heads/${branch}`;
  const chain = await firstParentChain(gitdir, cache, branch, tip, target);
  const targetSubject = subjectOf(chain[chain.length - 1].commit.message);
  const result: RollbackResult = { branch, from: tip, to: tip, target, targetSubject, reverts: [], updated: 'none' };
  if (chain.length === 1) return result;

  const worktree = opts.dir && (await checkedOutBranch(gitdir)) === ref ? opts.dir : undefined;
  if (worktree) await refuseLocalChanges(worktree, gitdir, cache);

  const trailer = `Rolled-back-with: convergit rollback --to ${target.slice(0, 7)}`;
  const planned = chain.slice(0, -1).map((c, i) => {
    const message = revertMessage({ sha: c.oid, message: c.commit.message, parents: c.commit.parent }, trailer);
    return { revert: { reverts: c.oid, subject: subjectOf(message), message } as Revert, tree: chain[i + 1].commit.tree };
  });
  result.reverts = planned.map((p) => p.revert);
  if (opts.dryRun) return result;

  const env = opts.env ?? process.env;
  const when = new Date();
  const stamp = { timestamp: Math.floor(when.getTime() / 1000), timezoneOffset: when.getTimezoneOffset() };
  const author = { ...(await identityOf('author', gitdir, env)), ...stamp };
  const committer = { ...(await identityOf('committer', gitdir, env)), ...stamp };
  let parent = tip;
  for (const { revert, tree } of planned) {
    revert.sha = parent = await git.writeCommit({ fs, gitdir, commit: { message: revert.message, tree, parent: [parent], author, committer } });
  }

  // The files the rollback changes: checked (untracked files in the way) before the branch moves, written after.
  const changes = worktree ? await treeChanges(gitdir, cache, tip, parent) : [];
  if (worktree && changes.length) await refuseUntrackedInTheWay(worktree, gitdir, cache, parent, changes.map((c) => c.path));

  const reflog = `rollback: revert ${planned.length} commit(s) back to ${target.slice(0, 7)}`;
  await compareAndSwapRef({ gitdir, ref, expected: tip, value: parent, reflog: { identity: committer, message: reflog, when } });
  result.to = parent;
  result.updated = worktree ? 'worktree' : 'ref';
  if (worktree && changes.length) await updateWorktree(worktree, gitdir, cache, parent, changes);
  return result;
}

/** The tip, its first parent, … down to the target included; refuses when the target is not among them. */
async function firstParentChain(gitdir: string, cache: object, branch: string, tip: string, target: string): Promise<ReadCommitResult[]> {
  const chain: ReadCommitResult[] = [];
  for (let oid: string | undefined = tip; oid; ) {
    const c = await git.readCommit({ fs, gitdir, oid, cache });
    chain.push(c);
    if (oid === target) return chain;
    oid = c.commit.parent[0];
  }
  throw new RollbackError('NotOnFirstParent', `${target.slice(0, 7)} is not on ${branch}'s first-parent history${await whyNot(gitdir, cache, chain, target)}`);
}

/** Names the merge that brought an off-chain ancestor in, so the user knows what to roll back to instead. */
async function whyNot(gitdir: string, cache: object, chain: ReadCommitResult[], target: string): Promise<string> {
  const reaches = (i: number) => git.isDescendent({ fs, gitdir, oid: chain[i].oid, ancestor: target, depth: -1, cache });
  if (!(await reaches(0))) return ': it is not in its history at all';
  // Reaching the target is monotone along the chain (the tip reaches it, the root does not): the oldest commit that
  // does is the merge that brought it in.
  let lo = 0;
  let hi = chain.length - 1;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (await reaches(mid)) lo = mid;
    else hi = mid - 1;
  }
  const merge = chain[lo];
  const short = merge.oid.slice(0, 7);
  return `: it came in with merge ${short} "${subjectOf(merge.commit.message)}"; --to ${short}^ rolls back to before that merge`;
}

/** `refs/heads/<name>` when HEAD is a branch, the sha when detached. */
export async function checkedOutBranch(gitdir: string): Promise<string | undefined> {
  return git.resolveRef({ fs, gitdir, ref: 'HEAD', depth: 2 }).catch(() => undefined);
}

/** Refuses when tracked files differ from HEAD in the working tree or the index, or a merge is half done. */
async function refuseLocalChanges(dir: string, gitdir: string, cache: object): Promise<void> {
  for (const marker of ['MERGE_HEAD', 'CHERRY_PICK_HEAD', 'REVERT_HEAD', 'rebase-merge', 'rebase-apply']) {
    if (await stat(join(gitdir, marker)).then(() => true, () => false)) {
      throw new RollbackError('LocalChanges', `${dir} has a ${marker.replace(/_HEAD$|-.*$/, '').toLowerCase().replace('_', '-')} in progress; finish or abort it first`);
    }
  }
  // refresh: false: a check never writes the user's index (isomorphic-git would rewrite it without git's racy-entry
  // smudging, after which git trusts same-second, same-size edits as clean).
  const rows = await git.statusMatrix({ fs, dir, gitdir, cache, refresh: false });
  // [path, HEAD, workdir, index]: 1,1,1 is unchanged; 0,2,0 is untracked, which a rollback may leave alone.
  const changed = rows.filter(([, h, w, s]) => !(h === 1 && w === 1 && s === 1) && !(h === 0 && s === 0)).map(([p]) => p);
  if (changed.length) {
    throw new RollbackError('LocalChanges', `${dir} has local changes to ${listed(changed)}; commit or stash them first, as git revert would ask`);
  }
}

/** Refuses when untracked files sit where the new tip has files (a dry-run checkout of exactly those paths). */
async function refuseUntrackedInTheWay(dir: string, gitdir: string, cache: object, oid: string, paths: string[]): Promise<void> {
  try {
    await git.checkout({ fs, dir, gitdir, ref: oid, filepaths: paths, noUpdateHead: true, dryRun: true, cache });
  } catch (e) {
    if (errorCode(e) !== 'CheckoutConflictError') throw e;
    const files = (e as { data?: { filepaths?: string[] } }).data?.filepaths ?? [];
    throw new RollbackError('UntrackedInTheWay', `untracked files in ${dir} would be overwritten by the rollback: ${listed(files)}; move or remove them first`);
  }
}

/**
 * Brings the (clean) working tree and index to `oid` for the files that change. Deleted files go first, by hand:
 * isomorphic-git's checkout cannot write a folder where a file still stands (or a file over a folder), and a file
 * that became a folder, or back, is one deleted and one added path.
 */
async function updateWorktree(dir: string, gitdir: string, cache: object, oid: string, changes: TreeChange[]): Promise<void> {
  const deleted = changes.filter((c) => c.change === 'deleted').map((c) => c.path);
  const written = changes.filter((c) => c.change !== 'deleted').map((c) => c.path);
  if (deleted.length) {
    await git.remove({ fs, dir, gitdir, filepath: deleted, cache });
    for (const p of deleted) await rm(join(dir, p), { force: true });
    await removeEmptiedFolders(dir, deleted);
  }
  if (written.length) await git.checkout({ fs, dir, gitdir, ref: oid, filepaths: written, noUpdateHead: true, cache });
}

/** Folders left empty by files the rollback removed go too, as git removes them. */
async function removeEmptiedFolders(dir: string, paths: string[]): Promise<void> {
  const folders = new Set<string>();
  for (const p of paths) for (let d = dirname(p); d !== '.'; d = dirname(d)) folders.add(d);
  // Deepest first, so a parent is tried once its children are gone.
  for (const f of [...folders].sort((x, y) => y.split('/').length - x.split('/').length)) {
    await rmdir(join(dir, f)).catch(() => {}); // not empty, or not there: keep going
  }
}

const listed = (files: string[]) => files.slice(0, 5).join(', ') + (files.length > 5 ? ` and ${files.length - 5} more` : '');
