// `convergit validate`: check a revision exactly as `serve` would, without a server. Exit 0 valid, 1 not.
import os from 'node:os';
import path from 'node:path';
import { GitSource } from '../source/git-source.ts';
import { loadDesired } from '../sync/desired.ts';
import { formatIssue } from '../model/issue.ts';

export interface ValidateOptions { repo: string; ref: string; path: string; strict: boolean; branch: string }

export async function validate(opts: ValidateOptions): Promise<number> {
  const source = new GitSource({ repo: path.resolve(opts.repo), branch: opts.branch, path: opts.path, dataDir: os.tmpdir(), interval: 0 });
  await source.prepare();
  const sha = await source.resolve(opts.ref);
  const rev = await source.read(sha);
  const { objects, issues } = await loadDesired(rev, source, { strict: opts.strict, root: opts.path });
  for (const i of issues) console.log(i.severity === 'warning' ? formatIssue({ ...i, message: `warning: ${i.message}` }) : formatIssue(i));
  const errors = issues.filter((i) => i.severity === 'error').length;
  const warnings = issues.length - errors;
  console.error(`${sha.slice(0, 7)}: ${objects.length} object(s) in ${rev.files.length} file(s): ${errors} error(s), ${warnings} warning(s)`);
  return errors ? 1 : 0;
}
