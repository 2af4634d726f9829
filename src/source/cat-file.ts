// Many blobs at once through git's own reader, `git cat-file --batch`: it gives a cold read's 10,000 blobs in ~0.1 s
// from another process, where reading them here (each inflated through node's zlib binding, a new stream each,
// deltas applied, hashed) held this thread ~0.3–0.4 s. An accelerator only: without git on PATH, or when git fails
// or refuses the repository, the tree reader reads them itself, as it always does a few (a spawn costs more).
import { spawn } from 'node:child_process';
import { closeSync, fstatSync, openSync, readSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Longest a batch may take before it is given up (a partial clone's missing blob would have git ask its remote). */
const TIMEOUT_MS = 60_000;
let batches = 0;
/** The PATH no git was found on: not looked for there again. */
let noGitOn: string | undefined;

/**
 * The blobs among `oids` as git reads them from `gitdir` (a repository's .git or a bare one), by oid; one git not
 * found, failed, refused or killed gives undefined, an oid that is not a blob (missing, a tree) is left out: the
 * caller reads those itself, which says what is wrong with them.
 */
export async function catFileBlobs(gitdir: string, oids: readonly string[]): Promise<Map<string, Uint8Array> | undefined> {
  if (noGitOn === process.env.PATH || !oids.length) return undefined;
  // Into a file, not a pipe: through a pipe node took git's output as it came, ~7,500 reads of a few hundred bytes
  // each for 10,000 blobs (~0.1 s of this thread). Unlinked at once: nothing is left behind whatever happens.
  const file = path.join(tmpdir(), `convergit-cat-file-${process.pid}-${++batches}`);
  let fd: number;
  try {
    fd = openSync(file, 'wx+', 0o600);
    unlinkSync(file);
  } catch {
    return undefined;
  }
  try {
    const ok = await new Promise<boolean>((resolve) => {
      const git = spawn('git', ['--git-dir', gitdir, 'cat-file', '--batch', '--buffer'], {
        stdio: ['pipe', fd, 'ignore'],
        // Never a prompt or a fetch: what git cannot read from the repository, the caller reads or refuses.
        env: { ...process.env, GIT_TERMINAL_PROMPT: '0', GIT_NO_LAZY_FETCH: '1' },
      });
      // Not spawn's own timeout, whose timer outlives a git that never started (and the process with it).
      const timer = setTimeout(() => git.kill('SIGKILL'), TIMEOUT_MS).unref();
      const done = (result: boolean) => {
        clearTimeout(timer);
        resolve(result);
      };
      git.on('error', (e: NodeJS.ErrnoException) => {
        if (e.code === 'ENOENT') noGitOn = process.env.PATH;
        done(false);
      });
      git.on('close', (code) => done(code === 0));
      git.stdin!.on('error', () => {}); // git gone early: its exit says so
      git.stdin!.end(`${oids.join('\n')}\n`);
    });
    return ok ? blobsIn(readAll(fd), oids) : undefined;
  } finally {
    closeSync(fd);
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

/**
 * cat-file's answers, one per oid asked in order: `<oid> blob <size>\n<content>\n`, `<oid> missing\n` (or another
 * type, or `ambiguous`). Output that does not follow that gives undefined.
 */
function blobsIn(out: Buffer, oids: readonly string[]): Map<string, Uint8Array> | undefined {
  const blobs = new Map<string, Uint8Array>();
  let at = 0;
  for (const oid of oids) {
    const nl = out.indexOf(10, at);
    if (nl < 0) return undefined;
    const [said, type, size] = out.toString('latin1', at, nl).split(' ');
    if (said !== oid) return undefined;
    at = nl + 1;
    if (size === undefined) continue; // missing, ambiguous
    const bytes = Number(size);
    if (!Number.isSafeInteger(bytes) || bytes < 0 || at + bytes >= out.length || out[at + bytes] !== 10) return undefined;
    if (type === 'blob') blobs.set(oid, out.subarray(at, at + bytes));
    at += bytes + 1;
  }
  return at === out.length ? blobs : undefined;
}
