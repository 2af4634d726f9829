// A bare clone of a remote repository under the data dir, and fetching its branch.
import fs from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';
import { SourceError, describe, errorCode } from './errors.ts';
import { isRepository } from './repository.ts';

export interface RemoteRepo {
  url: string;
  branch: string;
  gitdir: string;
  cache: object;
}

/** `${dataDir}/source/<host-path>-<hash>.git`: readable, unique per URL, and never containing credentials. */
export function cloneDir(dataDir: string, url: string): string {
  const u = new URL(url);
  const readable = `${u.host}${u.pathname}`.replace(/\.git\/?$/, '').replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '');
  const hash = createHash('sha256').update(url).digest('hex').slice(0, 10);
  return join(dataDir, 'source', `${readable}-${hash}.git`);
}

/** For messages and logs: the URL without a password or token. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

/** Reuses an earlier clone whose branch is there; otherwise clones into a temp folder and renames it into place. */
export async function cloneOrReuse(remote: RemoteRepo): Promise<void> {
  const branchRef = `refs/heads/${remote.branch}`;
  if (await isRepository(remote.gitdir)) {
    const ok = await git.resolveRef({ fs, gitdir: remote.gitdir, ref: branchRef }).then(() => true, () => false);
    if (ok) return;
  }
  // A half-made clone (crash during the first fetch) is replaced, never trusted.
  await rm(remote.gitdir, { recursive: true, force: true });
  const tmp = `${remote.gitdir}.tmp-${process.pid}-${Date.now()}`;
  try {
    await git.init({ fs, gitdir: tmp, bare: true, defaultBranch: remote.branch });
    await git.addRemote({ fs, gitdir: tmp, remote: 'origin', url: remote.url });
    await fetchBranch({ ...remote, gitdir: tmp });
    await rename(tmp, remote.gitdir);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
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
      http,
      gitdir: remote.gitdir,
      cache: remote.cache,
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
