// The message of a revert commit, exactly as `git revert --no-edit` (and `-m 1` for a merge) writes it.

export interface RevertedCommit {
  /** Full sha of the commit reverted. */
  sha: string;
  /** Its whole message. */
  message: string;
  /** Its parents; a merge is reverted against the first (`-m 1`). */
  parents: string[];
}

/** The first line of a message, as git's find_commit_subject takes it (leading blank lines skipped). */
export function subjectOf(message: string): string {
  return message.replace(/^(?:[ \t]*\n)+/, '').split('\n', 1)[0];
}

/**
 * `Revert "<subject>"\n\nThis reverts commit <sha>.\n`, with `, reversing\nchanges made to <first parent>` for a
 * merge. Reverting a revert reads `Reapply "<subject>"`, as git does since 2.43 (a revert of a revert of a revert
 * is left alone: git does not nest them either). `trailer`, when given, follows after a blank line.
 */
export function revertMessage(commit: RevertedCommit, trailer?: string): string {
  const subject = subjectOf(commit.message);
  const reverted = subject.startsWith('Revert "') ? subject.slice('Revert "'.length) : undefined;
  let message = reverted !== undefined && !reverted.startsWith('Revert "') ? `Reapply "${reverted}\n` : `Revert "${subject}"\n`;
  message += `\nThis reverts commit ${commit.sha}`;
  if (commit.parents.length > 1) message += `, reversing\nchanges made to ${commit.parents[0]}`;
  message += '.\n';
  return trailer ? `${message}\n${trailer}\n` : message;
}
