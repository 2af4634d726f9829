// Moves a ref as git does: under `<ref>.lock`, only if it still points where the caller last saw it, with a reflog line.
import fs from 'node:fs';
import { appendFile, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import git from 'isomorphic-git';
import type { Identity } from './identity.ts';
import { RollbackError } from './rollback-error.ts';
import { errorCode } from './errors.ts';

export interface UpdateRefOptions {
  gitdir: string;
  /** Full name, e.g. refs/heads/main. */
  ref: string;
  /** Where the ref must still point; otherwise nothing is written. */
  expected: string;
  value: string;
  /** Reflog entry, appended to logs/<ref> (and logs/HEAD when HEAD points at `ref`) where those logs exist. */
  reflog: { identity: Identity; message: string; when: Date };
}

/** Throws RollbackError BranchMoved (the ref no longer points at `expected`) or RefLocked (a `.lock` file exists). */
export async function compareAndSwapRef(opts: UpdateRefOptions): Promise<void> {
  const file = join(opts.gitdir, opts.ref);
  const lock = `${file}.lock`;
  const short = opts.ref.replace(/^refs\/heads\//, '');
  await mkdir(dirname(file), { recursive: true });
  // O_EXCL: the same lock git takes, so a concurrent `git commit` or `git push` into this repository waits or fails.
  const handle = await open(lock, 'wx').catch((e) => {
    if (errorCode(e) !== 'EEXIST') throw e;
    throw new RollbackError('RefLocked', `${short} is locked by another git process (${lock} exists); run again once it is done, or remove the lock if no git process is running`);
  });
  let renamed = false;
  try {
    // Read under the lock: a writer that respects it cannot move the ref between this check and the rename.
    const current = await git.resolveRef({ fs, gitdir: opts.gitdir, ref: opts.ref }).catch(() => undefined);
    if (current !== opts.expected) throw new RollbackError('BranchMoved', `${short} moved while rolling back (it is now at ${current?.slice(0, 7) ?? 'nothing'}); run again`);
    await handle.writeFile(`${opts.value}\n`);
    await handle.sync();
    await handle.close();
    await rename(lock, file);
    renamed = true;
  } finally {
    if (!renamed) {
      await handle.close().catch(() => {});
      await rm(lock, { force: true });
    }
  }
  await appendReflogs(opts);
}

async function appendReflogs(opts: UpdateRefOptions): Promise<void> {
  const { identity, message, when } = opts.reflog;
  const line = `${opts.expected} ${opts.value} ${identity.name} <${identity.email}> ${Math.floor(when.getTime() / 1000)} ${gitTimezone(when)}\t${message.replace(/\n/g, ' ')}\n`;
  const head = await git.resolveRef({ fs, gitdir: opts.gitdir, ref: 'HEAD', depth: 2 }).catch(() => undefined);
  for (const log of head === opts.ref ? [opts.ref, 'HEAD'] : [opts.ref]) {
    const path = join(opts.gitdir, 'logs', log);
    // Only logs git keeps already: a bare repository has none unless core.logAllRefUpdates asks for them.
    if (await stat(path).then((s) => s.isFile(), () => false)) await appendFile(path, line);
  }
}

/** `+0200` for a zone two hours east of UTC. */
function gitTimezone(when: Date): string {
  const offset = -when.getTimezoneOffset();
  const abs = Math.abs(offset);
  return `${offset < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}
