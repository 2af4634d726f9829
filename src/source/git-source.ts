// The Git source: a local repository (working tree or bare) or a clone of a remote one, read commit by commit.
import fs from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import git from 'isomorphic-git';
import type { ReadOptions, Revision } from './revision.ts';
import { SourceError, describe, errorCode, type SourceErrorReason } from './errors.ts';
import { gitDirOf, isRepository } from './repository.ts';
import { cloneDir, cloneOrReuse, fetchOrClone, redact, withCloneLock, type RemoteRepo } from './remote.ts';
import { TreeReader, type ReadStats } from './tree-reader.ts';
import { gitFs, type GitFs } from './git-fs.ts';
import { watchGitDir } from './watcher.ts';
import { exportTree } from './export-tree.ts';
import { CommitTree } from './commit-tree.ts';
import { treeChanges, type TreeChange } from './tree-changes.ts';
import { every } from './poller.ts';
import { checkedOutBranch, revertTo, type RollbackResult } from './revert.ts';
import { RollbackError } from './rollback-error.ts';

export { SourceError, type SourceErrorReason } from './errors.ts';
export { RollbackError, type RollbackRefusal } from './rollback-error.ts';
export type { Revert, RollbackResult } from './revert.ts';

export interface GitSourceOptions {
  /** local path (working tree or bare) or http(s) URL */
  repo: string;
  branch: string;
  /** dir inside the repo, '' = root */
  path: string;
  /** remote clones live under it */
  dataDir: string;
  /** ms between remote fetches */
  interval: number;
  /** local safety-net poll, default 10 s */
  pollInterval?: number;
  /**
   * default 10 ms: only ref files are watched, and a commit's writes to them (the .lock, its rename) come within a
   * ms or two; a spurious call costs one ref read, while every ms here is a ms before a commit is seen.
   */
  debounce?: number;
  /** Most manifest files a revision may have (default DEFAULT_MAX_MANIFEST_FILES); more: a TooManyFiles error. */
  maxManifestFiles?: number;
}

export class GitSource {
  readonly remote: boolean;
  /** The git dir read: the local repository's, or the clone's under dataDir. */
  readonly gitdir: string;
  /** The last background (watch) failure, cleared by the next success. */
  lastError?: SourceError;
  private readonly path: string;
  private readonly name: string;
  /** isomorphic-git's cache (parsed pack indexes), shared by every call on this repository. */
  private readonly cache = {};
  private readonly reader: TreeReader;
  /** How isomorphic-git reads this repository for the sync: its refs and loose objects at once (git-fs.ts). */
  private readonly fs: GitFs;
  private fetching?: Promise<void>;

  constructor(private readonly opts: GitSourceOptions) {
    this.remote = /^https?:\/\//i.test(opts.repo);
    const local = opts.repo.startsWith('file://') ? fileURLToPath(opts.repo) : opts.repo;
    this.gitdir = this.remote ? resolvePath(cloneDir(opts.dataDir, opts.repo)) : gitDirOf(resolvePath(local));
    this.name = this.remote ? redact(opts.repo) : resolvePath(local);
    this.path = opts.path.split('/').filter((s) => s && s !== '.').join('/');
    this.fs = gitFs(this.gitdir);
    this.reader = new TreeReader(this.gitdir, this.cache, this.fs, opts.maxManifestFiles);
  }

  get stats(): ReadStats {
    return this.reader.stats;
  }

  async prepare(): Promise<void> {
    if (this.remote) return cloneOrReuse(this.remoteRepo());
    if (!(await isRepository(this.gitdir))) throw await this.missingRepository();
  }

  /**
   * Reads a local repository's branch head now, so that the next read of it costs only what changed since: serve's
   * start reads it while the API's front thread starts (`opts`: as a read's, its files handed to the loader). A
   * failure is left to that read to say.
   */
  async warm(opts: ReadOptions = {}): Promise<void> {
    if (this.remote) return;
    try {
      await this.read(await this.readHead(), opts);
    } catch { /* the sync's own read reports it */ }
  }

  async fetch(): Promise<void> {
    if (!this.remote) return;
    // Concurrent callers (the watcher, the sync loop) share one fetch: two would race on the same refs and packs.
    this.fetching ??= (async () => {
      // No clone yet (prepare() failed: the server was down at start, say): it clones now, so the caller's retries heal.
      await fetchOrClone(this.remoteRepo());
    })().finally(() => (this.fetching = undefined));
    return this.fetching;
  }

  /** What head() last answered: the head its caller (serve's sync loop) knows of. */
  private told?: string;

  async head(): Promise<string> {
    const head = await this.readHead();
    this.told = head;
    return head;
  }

  private async readHead(): Promise<string> {
    try {
      return await this.readingRefs(() => git.resolveRef({ fs: this.fs, gitdir: this.gitdir, ref: `refs/heads/${this.opts.branch}` }));
    } catch (e) {
      throw await this.wrap(e, 'BranchNotFound', `branch '${this.opts.branch}' not found in ${this.name}`);
    }
  }

  private readingRefs<T>(fn: () => Promise<T>): Promise<T> {
    return this.remote ? withCloneLock(this.remoteRepo(), fn) : fn();
  }

  async resolve(ref: string): Promise<string> {
    // Ancestry suffixes, as git writes them: HEAD~2, main^, v1.0^^ (first parents only).
    const suffix = ref.match(/^(.+?)((?:~\d*|\^1?)+)$/);
    if (suffix) {
      let oid = await this.resolve(suffix[1]);
      for (const [, op, n] of suffix[2].matchAll(/([~^])(\d*)/g)) {
        for (let i = op === '~' && n !== '' ? Number(n) : 1; i > 0; i--) {
          const parent = (await git.readCommit({ fs, gitdir: this.gitdir, oid, cache: this.cache })).commit.parent[0];
          if (!parent) throw new SourceError('RefNotFound', `ref '${ref}' not found in ${this.name}: ${oid.slice(0, 7)} has no parent`);
          oid = parent;
        }
      }
      return oid;
    }
    try {
      // Names first, as git does (a branch may look like hex); in a clone, upstream branches by their plain name
      // too (`feature` → origin/feature); then full or abbreviated object ids.
      let oid: string;
      try {
        // Refs are read while no other process fetches into the same clone (its prune rewrites them).
        oid = await this.readingRefs(() => this.resolveName(ref).catch((e) => (this.remote ? this.resolveName(`origin/${ref}`) : Promise.reject(e))));
      } catch (e) {
        if (!/^[0-9a-f]{4,40}$/i.test(ref)) throw e;
        oid = await git.expandOid({ fs, gitdir: this.gitdir, oid: ref.toLowerCase(), cache: this.cache });
      }
      // Peels annotated tags down to their commit.
      return (await git.readCommit({ fs, gitdir: this.gitdir, oid, cache: this.cache })).oid;
    } catch (e) {
      throw await this.wrap(e, 'RefNotFound', `ref '${ref}' not found in ${this.name}`);
    }
  }

  async read(sha: string, opts: ReadOptions = {}): Promise<Revision> {
    try {
      const commit = await this.reader.commit(sha);
      const tree = await this.reader.treeAt(commit.tree, this.path);
      const files = await this.reader.files(tree, this.path, opts);
      return {
        sha,
        tree,
        message: commit.message.trimEnd(),
        author: { name: commit.author.name, email: commit.author.email },
        commitTime: new Date(commit.committer.timestamp * 1000).toISOString(),
        files,
        warnings: this.reader.warnings(),
      };
    } catch (e) {
      if (!(await isRepository(this.gitdir))) throw await this.missingRepository();
      const where = `commit ${sha} of ${this.name}`;
      if (e instanceof SourceError) throw new SourceError(e.reason, `${where}: ${e.message}`, { cause: e.cause });
      throw new SourceError('CorruptObject', `${where}: cannot read the commit: ${describe(e)}`, { cause: e });
    }
  }

  /** The tree oid of directory `dir` (relative to the repository root) at commit `sha`; undefined when it is not a directory there. */
  async treeOid(sha: string, dir: string): Promise<string | undefined> {
    const commit = await this.reader.commit(sha);
    try {
      return await this.reader.treeAt(commit.tree, dir);
    } catch (e) {
      if (e instanceof SourceError && e.reason === 'PathNotFound') return undefined;
      throw e;
    }
  }

  /** Every path of commit `sha`, for the build step (kustomize bases outside `--path`, folders to build in). */
  revisionTree(sha: string): CommitTree {
    return new CommitTree(this.gitdir, this.cache, sha);
  }

  /** The files that differ between two trees (or commits), e.g. the two versions of a `git:` image. */
  treeChanges(a: string, b: string): Promise<TreeChange[]> {
    return treeChanges(this.gitdir, this.cache, a, b);
  }

  /** Writes tree `oid` into `dest` (see exportTree), sharing this repository's object cache. */
  exportTree(oid: string, dest: string): Promise<void> {
    return exportTree({ gitdir: this.gitdir, oid, dest, cache: this.cache });
  }

  /** The best common ancestor of two refs or commits, as `git merge-base` answers; undefined for unrelated histories. */
  async mergeBase(a: string, b: string): Promise<string | undefined> {
    const oids = [await this.resolve(a), await this.resolve(b)];
    const [base] = await git.findMergeBase({ fs, gitdir: this.gitdir, oids, cache: this.cache });
    return base;
  }

  /**
   * Rolls the branch back to `to` (any ref resolve() takes) by writing revert commits, newest first (see revertTo);
   * a checked-out working tree follows. Throws RollbackError when refused, SourceError for an unknown ref or branch.
   */
  async rollback(to: string, opts: { dryRun?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<RollbackResult> {
    if (this.remote) throw new RollbackError('NotLocal', `${this.name} is a remote repository: roll back in a clone of it and push ${this.opts.branch}`);
    await this.prepare();
    const tip = await this.head();
    // HEAD is the checked-out branch: with another one checked out, HEAD~1 is not "one deploy back" on this one.
    if (/^HEAD(?=$|[~^])/.test(to)) {
      const head = await checkedOutBranch(this.gitdir);
      const branch = `refs/heads/${this.opts.branch}`;
      if (head !== branch) {
        const where = head?.startsWith('refs/heads/') ? `on branch ${head.slice('refs/heads/'.length)}` : `detached${head ? ` at ${head.slice(0, 7)}` : ''}`;
        throw new RollbackError('HeadIsElsewhere', `--to ${to}: HEAD is ${where}, not ${this.opts.branch}; name the commit on ${this.opts.branch}, e.g. --to ${this.opts.branch}${to.slice('HEAD'.length)}`);
      }
    }
    const target = await this.resolve(to);
    const local = resolvePath(this.opts.repo.startsWith('file://') ? fileURLToPath(this.opts.repo) : this.opts.repo);
    const dir = this.gitdir === local ? undefined : local; // a bare repository has no working tree
    return revertTo({ gitdir: this.gitdir, dir, branch: this.opts.branch, tip, target, cache: this.cache, ...opts });
  }

  /**
   * Calls `onChange` when the branch may have moved; the caller then calls head() (and fetch() for a remote).
   * Calls may be spurious, never missing: local watching also polls head() every `pollInterval`.
   * A remote is fetched every `interval` ms (0: never, the caller fetches). `ready`: once the file watch is in place
   * and its first look at the head is done (tests).
   */
  watch(onChange: () => void, opts: { ready?: () => void } = {}): () => Promise<void> {
    let lastHead: string | undefined;
    let lastFailure: string | undefined;
    // The head when watching starts is the baseline; if it cannot be read, the first head read later is a change.
    const started = this.readHead().then((h) => void (lastHead = h), () => {});
    // Ready → onChange: a commit made while the watch was starting is not missed. Unless the head read once the
    // watch is in place is the one head() last answered: the caller has it, and every later move is a file event.
    // (At serve's start the sync loop reads the head while the watch starts: a second pass after a 10,000-object
    // first sync only to find the same head cost seconds of the busy event loop before /status said Synced.)
    const onReady = () => void this.readHead().then((h) => h !== this.told, () => true).then((moved) => {
      if (moved) onChange();
      opts.ready?.();
    });
    const watchFiles = () => watchGitDir(this.gitdir, { debounce: this.opts.debounce ?? 10, onBurst: onChange, onReady });
    let stopFiles = this.remote ? async () => {} : watchFiles();

    const check = async () => {
      await started;
      try {
        if (this.remote) await this.fetch();
        const head = await this.readHead(); // not head(): what the caller was told stays what it was told
        if (lastFailure && !this.remote) {
          // The repository is back, maybe as a new folder the old file watches no longer see.
          await stopFiles();
          stopFiles = watchFiles();
        }
        // A recovery is news too: the caller may still be showing the failure.
        if (head !== lastHead || lastFailure) onChange();
        this.lastError = lastFailure = undefined;
        lastHead = head;
      } catch (e) {
        this.lastError = e instanceof SourceError ? e : new SourceError('FetchFailed', describe(e), { cause: e });
        // Report a failure once, not on every tick; the caller's fetch()/head() names it.
        if (this.lastError.message !== lastFailure) onChange();
        lastFailure = this.lastError.message;
      }
    };

    const period = this.remote ? this.opts.interval : (this.opts.pollInterval ?? 10_000);
    const stopPoll = period > 0 ? every(period, check) : async () => {};
    return async () => {
      await stopPoll(); // first: a running check may replace stopFiles
      await stopFiles();
    };
  }

  /** A ref name as git expands it (refs/<name>, refs/tags/, refs/heads/, refs/remotes/) → oid. */
  private async resolveName(ref: string): Promise<string> {
    return git.resolveRef({ fs, gitdir: this.gitdir, ref: await git.expandRef({ fs, gitdir: this.gitdir, ref }) });
  }

  private remoteRepo(): RemoteRepo {
    return { url: this.opts.repo, branch: this.opts.branch, gitdir: this.gitdir, cache: this.cache };
  }

  private async missingRepository(): Promise<SourceError> {
    const what = this.remote ? `the clone of ${this.name} at ${this.gitdir} (call prepare())` : this.name;
    const exists = fs.existsSync(this.remote ? this.gitdir : resolvePath(this.name));
    return new SourceError('RepositoryNotFound', exists ? `${what} is not a git repository` : `${what} does not exist`);
  }

  /** A SourceError for `e`: the repository gone trumps everything; a missing ref or object gets `reason`. */
  private async wrap(e: unknown, reason: SourceErrorReason, message: string): Promise<SourceError> {
    if (e instanceof SourceError) return e;
    if (!(await isRepository(this.gitdir))) return this.missingRepository();
    const detail = errorCode(e) === 'AmbiguousError' ? 'ambiguous abbreviated object id' : describe(e);
    return new SourceError(reason, `${message}: ${detail}`, { cause: e });
  }
}
