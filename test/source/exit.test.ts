import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startGitHttpServer } from '../support/git-http-server.ts';
import { tempDir, waitFor } from './helpers.ts';

const child = fileURLToPath(new URL('./exit-child.ts', import.meta.url));

/**
 * Runs exit-child.ts (watch, see the commit made here, stop) and resolves with its output once it exits.
 * The child never calls process.exit: it exits only if stop() left no timer, watcher or socket behind.
 */
async function watchInChild(repo: TestRepo, target: string): Promise<string> {
  const data = tempDir();
  const proc = spawn(process.execPath, ['--import', 'tsx', child, target, data.dir], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  proc.stdout.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  let code: number | null | undefined;
  void exited.then((c) => (code = c));
  try {
    await waitFor('the child to watch', () => out.includes('watching') || code !== undefined, 10_000);
    repo.write('b.yaml', 'b: 1\n');
    const sha = repo.commit('seen by the child');
    await waitFor('the child to exit on its own', () => code !== undefined, 10_000);
    assert.is(code, 0, out);
    assert.match(out, `saw ${sha}`);
    return out;
  } finally {
    proc.kill();
    data.cleanup();
  }
}

test('after stop(), a process watching a local repository exits on its own', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    assert.match(await watchInChild(repo, repo.dir), 'stopped');
  } finally {
    repo.cleanup();
  }
});

test('after stop(), a process watching a remote repository exits on its own', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' }, { bare: true });
  const server = await startGitHttpServer(dirname(repo.dir));
  try {
    assert.match(await watchInChild(repo, `${server.url}/repo.git`), 'stopped');
  } finally {
    await server.stop();
    repo.cleanup();
  }
});

test.run();
