// Watches a git dir for ref changes with chokidar and reports each burst of events once, debounced.
import { relative, sep } from 'node:path';
import { watch } from 'chokidar';

/**
 * Only HEAD, packed-refs and refs/ matter (with their `.lock` files): a commit writes `refs/heads/<b>.lock`
 * then renames it, `git gc` moves refs into packed-refs. Everything else is ignored, `objects/` above all
 * (hundreds of folders, written on every commit).
 */
function ignored(gitdir: string, path: string): boolean {
  const rel = relative(gitdir, path).split(sep).join('/');
  if (rel === '') return false;
  return !(rel === 'refs' || rel.startsWith('refs/') || rel.startsWith('HEAD') || rel.startsWith('packed-refs'));
}

/** Calls `onReady` once the watch is in place, `onBurst` `debounce` ms after the last of a burst of events. */
export function watchGitDir(gitdir: string, opts: { debounce: number; onBurst: () => void; onReady?: () => void }): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const watcher = watch(gitdir, { ignoreInitial: true, ignored: (p) => ignored(gitdir, p) });
  watcher.on('all', () => {
    clearTimeout(timer);
    timer = setTimeout(opts.onBurst, opts.debounce);
  });
  if (opts.onReady) watcher.on('ready', opts.onReady);
  // e.g. the repository folder removed: the caller's poll notices it and head() names the problem.
  watcher.on('error', () => {});
  return async () => {
    clearTimeout(timer);
    await watcher.close();
  };
}
