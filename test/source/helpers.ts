// Shared by the source tests: a GitSource on a temp repo, and waiting for a condition with a deadline.
import { until } from '../support/wait.ts';
import { mkdtempSync, rmSync } from 'node:fs';
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
