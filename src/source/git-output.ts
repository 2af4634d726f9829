// `git` run on a repository for what it prints, for the source's reads of many objects at once (cat-file.ts,
// ls-tree.ts): the same bytes as reading them here, so git is told to read the objects as they are (no replace refs)
// from this repository alone (no GIT_* variable of the environment, which a hook's may hold, says otherwise), never
// to prompt or fetch. Without git, when it fails, or for a partial clone, the caller reads them itself.
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readFileSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Longest git may take before it is given up. */
const TIMEOUT_MS = 60_000;
let batches = 0;
/** The git command that was not found: not looked for again. */
let notFound: string | undefined;

/**
 * The git to run: CONVERGIT_GIT names one (a path), empty turns the batch off; else `git` on PATH. Read at each
 * batch, so a test can compare both ways in one process.
 */
const gitCommand = () => process.env.CONVERGIT_GIT ?? 'git';

/**
 * What `git <args>` prints for the repository at `gitdir`, `input` on its standard input; undefined when git is not
 * there or turned off, fails, is killed, or the repository is a partial clone (git would fetch what it lacks).
 */
export async function gitOutput(gitdir: string, args: readonly string[], input = ''): Promise<Buffer | undefined> {
  const git = gitCommand();
  if (!git || git === notFound || partialClone(gitdir)) return undefined;
  // Into a file, not a pipe: through a pipe node took git's output as it came, ~7,500 reads of a few hundred bytes
  // each for 10,000 blobs (~0.1 s of this thread). Unlinked at once: nothing is left behind whatever happens.
  const file = path.join(tmpdir(), `convergit-git-${process.pid}-${++batches}`);
  let fd: number | undefined;
  try {
    fd = openSync(file, 'wx+', 0o600);
    unlinkSync(file);
    return await run(git, gitdir, args, input, fd) ? readAll(fd) : undefined;
  } catch {
    return undefined; // out of file descriptors, an output past a Buffer's size: read here
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Runs git with its output into `fd`; whether it succeeded. */
function run(git: string, gitdir: string, args: readonly string[], input: string, fd: number): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('GIT_')));
    const child = spawn(git, ['--git-dir', gitdir, '--no-replace-objects', ...args], {
      stdio: ['pipe', fd, 'ignore'],
      env: { ...env, GIT_TERMINAL_PROMPT: '0', GIT_NO_LAZY_FETCH: '1' },
    });
    // Not spawn's own timeout, whose timer outlives a git that never started (and the process with it).
    const timer = setTimeout(() => child.kill('SIGKILL'), TIMEOUT_MS).unref();
    const done = (ok: boolean) => {
      clearTimeout(timer);
      resolve(ok);
    };
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') notFound = git;
      done(false);
    });
    child.on('close', (code) => done(code === 0));
    if (!child.stdin) return; // not started (no file descriptor left): its error follows
    child.stdin.on('error', () => {}); // git gone early: its exit says so
    child.stdin.end(input);
  });
}

/** A partial clone (its config names a promisor remote): git would fetch a missing blob; read here, it is an error. */
function partialClone(gitdir: string): boolean {
  try {
    return /^\s*(partialclone|promisor)\s*=/im.test(readFileSync(path.join(gitdir, 'config'), 'utf8'));
  } catch {
    return false;
  }
}

function readAll(fd: number): Buffer {
  const buf = Buffer.allocUnsafe(fstatSync(fd).size);
  for (let n = 0; n < buf.length;) {
    const got = readSync(fd, buf, n, buf.length - n, n);
    if (!got) return buf.subarray(0, n);
    n += got;
  }
  return buf;
}
