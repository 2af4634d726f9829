// `convergit validate`: check a revision exactly as `serve` would, without a server. Exit 0 valid, 1 not.
// With --worktree, the working tree as it is on disk, uncommitted files included: a pre-commit hook.
import os from 'node:os';
import path from 'node:path';
import { GitSource } from '../source/git-source.ts';
import { Worktree } from '../source/worktree.ts';
import { loadDesired } from '../sync/desired.ts';
import { Builder } from '../build/builder.ts';
import { userBuildCacheDir, userLoadCacheDir } from '../build/cache-dir.ts';
import { unreadBy } from '../build/load-cache.ts';
import { formatIssue } from '../model/issue.ts';
import { Preload } from '../manifests/load-manifests.ts';

export interface ValidateOptions { repo: string; ref: string; path: string; strict: boolean; branch: string; worktree?: boolean; allowHostPath?: string[]; maxManifestFiles?: number }

export async function validate(opts: ValidateOptions): Promise<number> {
  // Objects are only counted here: the loader's own (shared) need no copy each.
  const builder = new Builder({ cacheDir: userBuildCacheDir(), loadCacheDir: userLoadCacheDir() });
  let loaded, label: string, files: number;
  if (opts.worktree) {
    const tree = await Worktree.open(opts.repo);
    const rev = await tree.revision(opts.path, opts.maxManifestFiles);
    loaded = await loadDesired(rev, tree, { strict: opts.strict, allowHostPath: opts.allowHostPath, root: opts.path, shared: true }, builder);
    [label, files] = ['working tree', rev.files.length];
  } else {
    const source = new GitSource({ repo: path.resolve(opts.repo), branch: opts.branch, path: opts.path, dataDir: os.tmpdir(), interval: 0, maxManifestFiles: opts.maxManifestFiles });
    await source.prepare();
    const sha = await source.resolve(opts.ref);
    // Files the load cache holds loaded are not read from git at all; the others are parsed as they are read.
    const loads = await builder.loads();
    const preload = new Preload({ strict: opts.strict, root: opts.path, cache: loads });
    try {
      const rev = await source.read(sha, { unread: loads && unreadBy(loads, { strict: opts.strict }), ...preload.hooks });
      loaded = await loadDesired(rev, source, { strict: opts.strict, allowHostPath: opts.allowHostPath, root: opts.path, shared: true, preload }, builder);
      [label, files] = [sha.slice(0, 7), rev.files.length];
    } finally {
      preload.abort(); // a failed read or load reports at once; after a load, nothing is left to end
    }
  }
  const { objects, issues } = loaded;
  for (const i of issues) console.log(i.severity === 'warning' ? formatIssue({ ...i, message: `warning: ${i.message}` }) : formatIssue(i));
  const errors = issues.filter((i) => i.severity === 'error').length;
  const warnings = issues.length - errors;
  console.error(`${label}: ${objects.length} object(s) in ${files} file(s): ${errors} error(s), ${warnings} warning(s)`);
  return errors ? 1 : 0;
}
