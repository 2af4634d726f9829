// One owner per data folder: an exclusive lock on `<dataDir>/serve.lock`, plus `<dataDir>/serve.json` saying who holds
// it (pid, API URL) so a second `serve` can name the running one. The lock is an open-file-description lock (fcntl
// F_OFD_SETLK on Linux, flock elsewhere, through fs-native-extensions): the kernel drops it when the holder's process
// ends in any way, kill -9 included, so a crash never leaves a stale lock. Node opens files close-on-exec, so the
// containers a serve starts never inherit it. Readers (plan, history, validate) do not take it.
import { closeSync, mkdirSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { writeFileWholeSync } from '../store/durable-file.ts';

const { tryLock } = createRequire(import.meta.url)('fs-native-extensions') as { tryLock(fd: number): boolean };

/** Who holds a data folder, as written in serve.json. */
export interface LockOwner {
  /** `serve` or `stop`. */
  command: string;
  pid: number;
  startedAt: string;
  /** The API's URL, once it listens. */
  url?: string;
  /** The file holding the API's bearer token (unless it came from the environment). */
  tokenFile?: string;
  /** The API's self-signed TLS certificate, when it listens beyond loopback. */
  certFile?: string;
}

export class DataDirInUse extends Error {
  constructor(readonly dataDir: string, readonly owner: LockOwner | undefined) {
    super(`data folder ${dataDir} is in use by ${describeOwner(owner)}; stop it first (convergit stop --data-dir ${JSON.stringify(dataDir)} stops it and its pods) or use another --data-dir`);
  }
}

export interface DataDirLock {
  readonly dataDir: string;
  /** Adds to what serve.json says (e.g. the API URL once known). */
  announce(info: Partial<LockOwner>): void;
  /** Removes serve.json and releases the lock. Safe to call twice. */
  release(): void;
}

const lockFile = (dataDir: string) => path.join(dataDir, 'serve.lock');
const ownerFile = (dataDir: string) => path.join(dataDir, 'serve.json');

function describeOwner(o: LockOwner | undefined): string {
  if (!o) return 'another convergit process (it has not said which yet)';
  return `convergit ${o.command} (pid ${o.pid}${o.url ? `, API ${o.url}` : ''}, since ${o.startedAt})`;
}

/** Takes the folder's lock at once or throws DataDirInUse naming the holder; never waits. */
export function lockDataDir(dir: string, command: string): DataDirLock {
  const dataDir = path.resolve(dir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // The lock file is never deleted: removing it would let two processes lock two different files of one name.
  const fd = openSync(lockFile(dataDir), 'a+', 0o600);
  let locked: boolean;
  try {
    locked = tryLock(fd);
  } catch (e) {
    closeSync(fd);
    throw e;
  }
  if (!locked) {
    closeSync(fd);
    throw new DataDirInUse(dataDir, readLockOwner(dataDir));
  }
  let owner: LockOwner = { command, pid: process.pid, startedAt: new Date().toISOString() };
  const write = () => writeFileWholeSync(ownerFile(dataDir), `${JSON.stringify(owner)}\n`);
  write();
  let released = false;
  return {
    dataDir,
    announce(info) {
      if (released) return;
      owner = { ...owner, ...info };
      write();
    },
    release() {
      if (released) return;
      released = true;
      rmSync(ownerFile(dataDir), { force: true }); // before unlocking: a next owner's file is never removed
      closeSync(fd); // closing the descriptor drops the lock
    },
  };
}

/** What serve.json says, or undefined (missing, unreadable). Meaningful only while the lock is held. */
export function readLockOwner(dir: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(ownerFile(path.resolve(dir)), 'utf8'));
    return typeof o?.pid === 'number' && typeof o?.command === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Whether some process holds the folder's lock now (checked by taking and dropping it). */
export function isDataDirLocked(dir: string): boolean {
  const dataDir = path.resolve(dir);
  let fd: number;
  try {
    fd = openSync(lockFile(dataDir), 'r+'); // writable: an exclusive lock needs it
  } catch {
    return false; // never locked
  }
  try {
    return !tryLock(fd);
  } finally {
    closeSync(fd);
  }
}
