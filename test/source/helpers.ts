// Shared by the source tests: a GitSource on a temp repo, and waiting for a condition with a deadline.
import { until } from '../support/wait.ts';
import type { TestRepo } from '../support/git-repo.ts';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GitSource, type GitSourceOptions } from '../../src/source/git-source.ts';

export function tempDir(): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'convergit-data-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function sourceFor(repo: string, opts: Partial<GitSourceOptions> = {}): GitSource {
  return new GitSource({ repo, branch: 'main', path: '', dataDir: tmpdir(), interval: 1000, ...opts });
}

/** Resolves once `cond()` is truthy; rejects with `what` after `timeout` ms. Polls, never sleeps a fixed time. */
/** The shared `until`, argument order kept for these tests. */
export async function waitFor(what: string, cond: () => unknown | Promise<unknown>, timeout = 5000): Promise<void> {
  await until(async () => !!(await cond()), what, timeout);
}

/** Runs `fn` and returns the SourceError it throws (fails if it resolves). */
export async function sourceError(fn: () => Promise<unknown>): Promise<{ reason: string; message: string }> {
  try {
    await fn();
  } catch (e) {
    if ((e as Error).name === 'SourceError') return e as { reason: string; message: string };
    throw e;
  }
  throw new Error('expected a SourceError, got none');
}

/** Active handles (timers, watchers, sockets) by type, to check that stop() leaves nothing behind. */
export function activeResources(): string[] {
  return process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap').sort();
}

/** Flips a byte inside the zlib data of `blob` in the repository's one pack (or `pack`); returns the pack's name. */
export function damage(repo: TestRepo, blob: string, pack?: string): string {
  const name = pack ? `${pack}.pack` : readdirSync(join(repo.dir, '.git/objects/pack')).find((n) => n.endsWith('.pack'))!;
  const file = join(repo.dir, '.git/objects/pack', name);
  const offset = Number(repo.git('verify-pack', '-v', join('.git/objects/pack', name)).split('\n').find((l) => l.startsWith(blob))!.split(/ +/)[4]);
  const bytes = readFileSync(file);
  bytes[offset + 40] ^= 0xff;
  writeFileSync(file, bytes);
  return name.slice(0, -5);
}

/** Runs `fn` with CONVERGIT_GIT set to `git` ('': the source reads everything itself, without git; src/source/cat-file.ts). */
export async function withGit<T>(git: string, fn: () => Promise<T>): Promise<T> {
  const before = process.env.CONVERGIT_GIT;
  process.env.CONVERGIT_GIT = git;
  try {
    return await fn();
  } finally {
    if (before === undefined) delete process.env.CONVERGIT_GIT;
    else process.env.CONVERGIT_GIT = before;
  }
}
