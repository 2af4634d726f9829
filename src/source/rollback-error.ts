// Why a rollback was refused: a reason the caller can branch on, and a message saying what to do about it.

export type RollbackRefusal =
  /** The target is not the tip nor on the branch's first-parent chain. */
  | 'NotOnFirstParent'
  /** The checked-out working tree or index has changes to tracked files. */
  | 'LocalChanges'
  /** Untracked files are where the rollback would write. */
  | 'UntrackedInTheWay'
  /** The branch moved since the rollback read it. */
  | 'BranchMoved'
  /** Another git process holds the branch's lock file. */
  | 'RefLocked'
  /** The repository is a remote URL: rollback writes to a local repository. */
  | 'NotLocal'
  /** `--to HEAD~n` while HEAD is another branch (or detached): it would name a commit of another line of history. */
  | 'HeadIsElsewhere';

export class RollbackError extends Error {
  override name = 'RollbackError';
  constructor(readonly reason: RollbackRefusal, message: string) {
    super(message);
  }
}
