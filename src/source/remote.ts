// A bare clone of a remote repository under the data dir, and fetching its branch.
import fs from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createHash } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import git from 'isomorphic-git';
import { SourceError, describe, errorCode } from './errors.ts';
import { isRepository } from './repository.ts';

const { waitForLock } = createRequire(import.meta.url)('fs-native-extensions') as { waitForLock(fd: number): Promise<boolean> };

export interface RemoteRepo {
  url: string;
  branch: string;
  gitdir: string;
  cache: object;
}

/** `${dataDir}/source/<host-path>-<hash>.git`: readable, unique per repository; a rotated token reuses the clone. */
export function cloneDir(dataDir: string, url: string): string {
  const u = new URL(redact(url));
  const readable = `${u.host}${u.pathname}`.replace(/\.git\/?$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  const hash = createHash('sha256').update(u.toString()).digest('hex').slice(0, 10);
  return join(dataDir, 'source', `${readable}-${hash}.git`);
}

/** The URL without user or password (or token): for folder names, messages and the clone's config. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    u.username = u.password = '';
    return u.toString();
  } catch {
    return url;
  }
}

/**
 * Runs `fn` holding `source.locks/<clone>.lock`. Processes sharing a clone folder (two `plan`s in CI at once) take
 * turns on it for everything that writes the clone: without it, one could remove as "not a repository" the clone
 * the other had just renamed into place, or one fetch's prune and packed-refs could drop the refs the other wrote.
 */
export function withCloneLock<T>(remote: RemoteRepo, fn: () => Promise<T>): Promise<T> {
  // Turns within this process first: a flock waits in a libuv thread, and waiters must not take them all.
  const turn = (inProcess.get(remote.gitdir) ?? Promise.resolve()).then(() => underFlock(remote, fn));
  const tail = turn.then(() => {}, () => {});
  inProcess.set(remote.gitdir, tail);
  void tail.then(() => { if (inProcess.get(remote.gitdir) === tail) inProcess.delete(remote.gitdir); });
  return turn;
}

const inProcess = new Map<string, Promise<void>>();

async function underFlock<T>(remote: RemoteRepo, fn: () => Promise<T>): Promise<T> {
  // Beside the clones' folder, not in it: only clones live there.
  const locks = `${dirname(remote.gitdir)}.locks`;
  await mkdir(locks, { recursive: true });
  const lock = await open(join(locks, `${basename(remote.gitdir)}.lock`), 'a');
  try {
    await waitForLock(lock.fd);
    return await fn();
  } finally {
    await lock.close(); // releases the lock
  }
}

/** Reuses an earlier clone; otherwise clones into a temp folder and renames it into place, so no clone is half-made. */
export const cloneOrReuse = (remote: RemoteRepo): Promise<void> => withCloneLock(remote, () => cloneOrReuseLocked(remote));

/** Brings the clone up to date (cloning it first when there is none), taking turns with other processes. */
export const fetchOrClone = (remote: RemoteRepo): Promise<void> => withCloneLock(remote, async () => {
  if (await isRepository(remote.gitdir)) await fetchBranch(remote);
  else await cloneOrReuseLocked(remote);
});

async function cloneOrReuseLocked(remote: RemoteRepo): Promise<void> {
  if (await isRepository(remote.gitdir)) {
    const branchRef = `refs/heads/${remote.branch}`;
    const known = await git.resolveRef({ fs, gitdir: remote.gitdir, ref: branchRef }).then(() => true, () => false);
    // A branch the clone lacks (the option changed since): fetch it into the same clone.
    if (!known) await fetchBranch(remote);
    return;
  }
  await rm(remote.gitdir, { recursive: true, force: true }); // not a repository: nothing worth keeping
  const tmp = `${remote.gitdir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await git.init({ fs, gitdir: tmp, bare: true, defaultBranch: remote.branch });
    await git.addRemote({ fs, gitdir: tmp, remote: 'origin', url: redact(remote.url) });
    await fetchBranch({ ...remote, gitdir: tmp });
    await rename(tmp, remote.gitdir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    // Another process cloned the same repository meanwhile (two `plan`s in CI at once): theirs is as good as ours.
    if (['ENOTEMPTY', 'EEXIST'].includes(errorCode(e) ?? '') && (await isRepository(remote.gitdir))) return;
    throw e;
  }
}

/**
 * Fetches all branches and tags (so any upstream branch or tag resolves: `plan` of a pull request's branch), then
 * points the local branch at upstream's tip, so `main` means upstream's main.
 */
export async function fetchBranch(remote: RemoteRepo): Promise<string> {
  const where = `${redact(remote.url)} branch '${remote.branch}'`;
  let fetchHead: string | null;
  try {
    ({ fetchHead } = await git.fetch({
      fs,
      // Loaded on the first fetch: its HTTP client (simple-get and friends) costs every start of a local repository's serve otherwise.
      http: (await import('isomorphic-git/http/node')).default,
      gitdir: remote.gitdir,
      cache: remote.cache,
      // The URL is passed on each fetch, never read from the clone's config: credentials are not stored on disk.
      url: remote.url,
      remote: 'origin',
      ref: remote.branch,
      // singleBranch would save objects only other branches have, but isomorphic-git then drops the tags.
      singleBranch: false,
      tags: true,
      prune: true,
    }));
  } catch (e) {
    // isomorphic-git says NotFoundError(<ref>) when upstream has no such branch.
    const what = (e as { data?: { what?: unknown } }).data?.what;
    if (errorCode(e) === 'NotFoundError' && String(what).endsWith(remote.branch)) {
      throw new SourceError('BranchNotFound', `branch '${remote.branch}' not found in ${redact(remote.url)}`, { cause: e });
    }
    const status = (e as { data?: { statusCode?: number } }).data?.statusCode;
    if (status === 404) throw new SourceError('RepositoryNotFound', `repository ${redact(remote.url)} not found (HTTP 404)`, { cause: e });
    throw new SourceError('FetchFailed', `fetch of ${where} failed: ${describe(e)}`, { cause: e });
  }
  if (!fetchHead) throw new SourceError('BranchNotFound', `branch '${remote.branch}' not found in ${redact(remote.url)} (empty repository)`);
  await git.writeRef({ fs, gitdir: remote.gitdir, ref: `refs/heads/${remote.branch}`, value: fetchHead, force: true });
  return fetchHead;
}
