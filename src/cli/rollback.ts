// `convergit rollback`: roll the watched branch back by committing reverts, never by changing live state behind
// git's back; `serve` then applies the revert like any other commit. Exit 0 done (or nothing to do), 1 refused.
import os from 'node:os';
import { GitSource, RollbackError, SourceError } from '../source/git-source.ts';

export interface RollbackOptions {
  repo: string;
  /** Any ref: sha, abbreviated sha, branch, tag, HEAD~2 … */
  to: string;
  branch: string;
  dryRun?: boolean;
}

export interface RollbackOutput {
  out(line: string): void;
  err(line: string): void;
}

const console_: RollbackOutput = { out: (l) => console.log(l), err: (l) => console.error(l) };

export async function rollback(opts: RollbackOptions, io: RollbackOutput = console_): Promise<number> {
  // As given: GitSource resolves a path or a file:// URL itself, and refuses an http(s) URL (NotLocal) with advice.
  const source = new GitSource({ repo: opts.repo, branch: opts.branch, path: '', dataDir: os.tmpdir(), interval: 0 });
  try {
    const r = await source.rollback(opts.to, { dryRun: opts.dryRun });
    const short = (sha: string) => sha.slice(0, 7);
    const target = `${short(r.target)} "${r.targetSubject}"`;
    if (!r.reverts.length) {
      io.out(`${r.branch} is already at ${target}: nothing to roll back.`);
      return 0;
    }
    if (opts.dryRun) {
      io.out(`Would write ${r.reverts.length} revert commit(s) on ${r.branch}, newest first:`);
      for (const v of r.reverts) io.out(`  ${v.subject} (reverts ${short(v.reverts)})`);
      io.out(`${r.branch} would then have the files of ${target}. Nothing was written (--dry-run).`);
      return 0;
    }
    for (const v of r.reverts) io.out(`${short(v.sha!)} ${v.subject}`);
    const where = r.updated === 'worktree' ? ' (working tree updated)' : '';
    io.out(`${r.branch} moved ${short(r.from)} → ${short(r.to)}${where}: it now has the files of ${target}.`);
    io.out(`convergit serve applies it as soon as it sees the commit; for a remote, push ${r.branch}.`);
    return 0;
  } catch (e) {
    if (!(e instanceof RollbackError || e instanceof SourceError)) throw e;
    io.err(`convergit rollback: ${e.message}`);
    return 1;
  }
}
