// GitSource.treeChanges (a git: image's changed files in a plan; the files a rollback writes), checked against
// `git diff --name-status`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { sourceFor } from './helpers.ts';

const LETTER = { added: 'A', deleted: 'D', modified: 'M' } as const;

test('files only, as git diff --name-status: new folders, a file turned folder and back, a mode change', async () => {
  const repo = makeRepo({ 'keep/same.txt': 's', 'dir/x.txt': '1', 'file': 'f', 'run.sh': 'echo', 'gone/deep/old.txt': 'o', 'edit.txt': '1' });
  try {
    const before = repo.git('rev-parse', 'HEAD');
    repo.write('new/deep/y.txt', 'y');
    repo.write('new/z.txt', 'z');
    repo.remove('dir');
    repo.write('dir', 'now a file');
    repo.remove('file');
    repo.write('file/inner.txt', 'now a folder');
    chmodSync(join(repo.dir, 'run.sh'), 0o755);
    repo.remove('gone');
    repo.write('edit.txt', '2');
    const after = repo.commit('reshuffle');

    const changes = await sourceFor(repo.dir).treeChanges(before, after);
    const git = repo.git('-c', 'core.quotePath=false', 'diff', '--name-status', '--no-renames', before, after).split('\n').map((l) => l.replace('\t', ' '));
    assert.equal(changes.map((c) => `${LETTER[c.change]} ${c.path}`), git);
    assert.equal(changes.map((c) => c.path), ['dir', 'dir/x.txt', 'edit.txt', 'file', 'file/inner.txt', 'gone/deep/old.txt', 'new/deep/y.txt', 'new/z.txt', 'run.sh']);
    assert.equal(await sourceFor(repo.dir).treeChanges(after, after), []);
  } finally {
    repo.cleanup();
  }
});

test('a rollback across a file turned folder (and a folder turned file) restores both, git status clean', async () => {
  const repo = makeRepo({ 'dir/x.txt': '1', 'file': 'f' });
  try {
    const target = repo.git('rev-parse', 'HEAD');
    repo.remove('dir');
    repo.write('dir', 'now a file');
    repo.remove('file');
    repo.write('file/inner.txt', 'now a folder');
    repo.commit('reshuffle');
    await sourceFor(repo.dir).rollback(target, { env: { PATH: process.env.PATH, GIT_CONFIG_GLOBAL: '/dev/null' } });
    assert.is(repo.git('diff', target, 'HEAD'), '');
    assert.is(repo.git('status', '--porcelain'), '');
    assert.is(readFileSync(join(repo.dir, 'dir/x.txt'), 'utf8'), '1');
    assert.ok(statSync(join(repo.dir, 'file')).isFile());
  } finally {
    repo.cleanup();
  }
});

test.run();
