// Temp git repositories for tests, driven by the real `git` CLI.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface RepoOptions {
  /** default 'main' */
  branch?: string;
  /**
   * `dir` is a bare repository; write/remove/link/commit work in a private working clone,
   * and commit() pushes to it (as a developer would).
   */
  bare?: boolean;
  /** message of the first commit, made when `files` are given (default 'initial') */
  message?: string;
}

export interface TestRepo {
  /** The repository: a working tree, or the bare repository with `bare: true`. */
  dir: string;
  /** The working tree that write/commit use (`dir` unless bare). */
  work: string;
  branch: string;
  write(path: string, content: string): void;
  remove(path: string): void;
  /** A symbolic link at `path` pointing to `target`. */
  link(path: string, target: string): void;
  /** Stages everything, commits, returns the new sha (pushes it when bare). */
  commit(message?: string): string;
  /** Runs git in `dir`; returns trimmed stdout. */
  git(...args: string[]): string;
  cleanup(): void;
}

// Isolated from the developer's own git config (hooks, signing, templates).
const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_TERMINAL_PROMPT: '0' };

export function runGit(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

function configure(dir: string) {
  for (const [k, v] of [['user.name', 'Test Author'], ['user.email', 'test@example.com'], ['commit.gpgsign', 'false'], ['gc.auto', '0']]) {
    runGit(dir, 'config', k, v);
  }
}

export function makeRepo(files: Record<string, string> = {}, opts: RepoOptions = {}): TestRepo {
  const branch = opts.branch ?? 'main';
  const root = mkdtempSync(join(tmpdir(), 'convergit-repo-'));
  const dir = join(root, opts.bare ? 'repo.git' : 'repo');
  const work = opts.bare ? join(root, 'work') : dir;
  mkdirSync(dir);
  if (opts.bare) runGit(dir, 'init', '--quiet', '--bare', '-b', branch);
  if (work !== dir) mkdirSync(work);
  runGit(work, 'init', '--quiet', '-b', branch);
  configure(work);
  if (opts.bare) {
    configure(dir);
    runGit(work, 'remote', 'add', 'origin', dir);
  }

  const repo: TestRepo = {
    dir,
    work,
    branch,
    write(path, content) {
      const file = join(work, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content);
    },
    remove(path) {
      rmSync(join(work, path), { recursive: true });
    },
    link(path, target) {
      const file = join(work, path);
      mkdirSync(dirname(file), { recursive: true });
      symlinkSync(target, file);
    },
    commit(message = 'change') {
      runGit(work, 'add', '-A');
      runGit(work, 'commit', '--quiet', '--allow-empty', '-m', message);
      if (opts.bare) runGit(work, 'push', '--quiet', '--force', 'origin', `HEAD:refs/heads/${branch}`);
      return runGit(work, 'rev-parse', 'HEAD');
    },
    git: (...args) => runGit(dir, ...args),
    cleanup() {
      rmSync(root, { recursive: true, force: true });
    },
  };
  if (Object.keys(files).length) {
    for (const [path, content] of Object.entries(files)) repo.write(path, content);
    repo.commit(opts.message ?? 'initial');
  }
  return repo;
}
