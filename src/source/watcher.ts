// Watches a git dir for ref changes with chokidar and reports each burst of events once, debounced.
import { join, relative, sep } from 'node:path';
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

/**
 * Calls `onReady` once the watch is in place, `onBurst` `debounce` ms after the last of a burst of events. The file
 * system's own events count, not only chokidar's: chokidar drops a file's change that comes within 50 ms of its last
 * one, so a commit made as soon as the one before was seen (a bot pushing) moved the ref unseen, in ~1 of 10 such
 * commits, until the caller's poll.
 */
export function watchGitDir(gitdir: string, opts: { debounce: number; onBurst: () => void; onReady?: () => void }): () => Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const burst = () => {
    clearTimeout(timer);
    timer = setTimeout(opts.onBurst, opts.debounce);
  };
  const watcher = watch(gitdir, { ignoreInitial: true, ignored: (p) => ignored(gitdir, p) });
  watcher.on('all', burst);
  // A watched folder's event names its entry, a watched file's the file itself (`HEAD/HEAD` is a ref path too). No
  // watchedPath: chokidar polls (CHOKIDAR_USEPOLLING), and its own events are all there is.
  watcher.on('raw', (_event, name, details) => {
    const at = (details as { watchedPath?: string } | undefined)?.watchedPath;
    if (at !== undefined && !ignored(gitdir, at) && (!name || !ignored(gitdir, join(at, name)))) burst();
  });
  if (opts.onReady) watcher.on('ready', opts.onReady);
  // e.g. the repository folder removed: the caller's poll notices it and head() names the problem.
  watcher.on('error', () => {});
  return async () => {
    clearTimeout(timer);
    await watcher.close();
  };
}
