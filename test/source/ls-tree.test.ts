// A first read's trees listed by git at once (src/source/ls-tree.ts): each tree's entries as isomorphic-git reads
// them (order, modes, symlinks, submodules, odd names), and a source's cold read the same with git as without.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { join } from 'node:path';
import git from 'isomorphic-git';
import * as fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { makeRepo } from '../support/git-repo.ts';
import { listTrees } from '../../src/source/ls-tree.ts';
import { sourceFor, withGit } from './helpers.ts';


function oddRepo() {
  const repo = makeRepo({
    'deploy/a.yaml': 'a: 1\n', 'deploy/b c.yaml': 'b: 2\n', 'deploy/ünï\tcode.yaml': 'u: 3\n', 'deploy/x/y/z.yaml': 'z: 4\n',
    'deploy/x/run.sh': '#!/bin/sh\n', 'deploy/x-y.yaml': 'xy: 5\n', 'deploy/x.yaml': 'x: 6\n', 'other/o.yaml': 'o: 7\n',
  });
  fs.symlinkSync('a.yaml', join(repo.dir, 'deploy/link.yaml'));
  fs.chmodSync(join(repo.dir, 'deploy/x/run.sh'), 0o755);
  // A submodule's entry (a commit in a tree), as `git submodule add` leaves one.
  repo.commit('odd entries');
  repo.git('update-index', '--add', '--cacheinfo', `160000,${'a'.repeat(40)},deploy/sub`);
  repo.git('commit', '-q', '-m', 'a submodule'); // not commit(), whose `git add -A` drops an entry with no folder
  return repo;
}

test('every tree under the one asked, each as isomorphic-git reads it', async () => {
  const repo = oddRepo();
  try {
    const gitdir = join(repo.dir, '.git');
    const root = repo.git('rev-parse', 'HEAD^{tree}');
    const trees = await listTrees(gitdir, root);
    assert.ok(trees);
    assert.is(trees.size, 5, 'root, deploy, deploy/x, deploy/x/y, other');
    for (const [oid, entries] of trees) {
      const { tree } = await git.readTree({ fs, gitdir, oid });
      assert.equal(entries, tree, oid);
    }
    assert.ok(trees.get(repo.git('rev-parse', 'HEAD:deploy'))!.some((e) => e.type === 'commit' && e.path === 'sub'));
    assert.is(await withGit('', () => listTrees(gitdir, root)), undefined, 'git off');
    assert.is(await listTrees(gitdir, 'f'.repeat(40)), undefined, 'no such tree');
  } finally {
    repo.cleanup();
  }
});

test('a cold read lists its trees through git and reads what it reads without git; the next read walks as before', async () => {
  const repo = oddRepo();
  try {
    const sha = repo.git('rev-parse', 'HEAD');
    const withGit_ = sourceFor(repo.dir, { path: 'deploy' });
    const read = await withGit_.read(sha);
    assert.is(withGit_.stats.treesFromGit, 3, 'deploy, deploy/x, deploy/x/y (the root, walked to the path, as before)');
    const without = sourceFor(repo.dir, { path: 'deploy' });
    assert.equal(await withGit('', () => without.read(sha)), read);
    assert.is(without.stats.treesFromGit, 0);
    assert.is(without.stats.treesRead, withGit_.stats.treesRead);
    repo.write('deploy/x/y/z.yaml', 'z: 5\n');
    const next = repo.commit('one file');
    const before = withGit_.stats.treesFromGit;
    await withGit_.read(next);
    assert.is(withGit_.stats.treesFromGit, before, 'an incremental read reads its few trees itself');
  } finally {
    repo.cleanup();
  }
});

test('a tree isomorphic-git refuses (`..`, `.git`, a backslash) or two names alike: not listed, so the read refuses it as without git', async () => {
  const repo = makeRepo({ 'deploy/a.yaml': 'a: 1\n' });
  try {
    const gitdir = join(repo.dir, '.git');
    const blob = repo.git('rev-parse', 'HEAD:deploy/a.yaml');
    const mktree = (lines: string[]) => execFileSync('git', ['mktree'], { cwd: repo.dir, input: lines.map((l) => `${l}\n`).join(''), encoding: 'utf8' }).trim();
    for (const name of ['..', '.GIT', '.git. ', 'git~1', 'a\\b.yaml']) {
      const bad = mktree([`100644 blob ${blob}\t${name}`, `100644 blob ${blob}\tok.yaml`]);
      assert.is(await listTrees(gitdir, mktree([`040000 tree ${bad}\tdeploy`])), undefined, name);
      // A commit of it, read cold with and without git: the same refusal.
      const commit = execFileSync('git', ['commit-tree', mktree([`040000 tree ${bad}\tdeploy`]), '-m', 'bad'], { cwd: repo.dir, encoding: 'utf8' }).trim();
      const errors = [];
      for (const git of ['git', '']) errors.push(await withGit(git, () => sourceFor(repo.dir, { path: 'deploy' }).read(commit).then(() => 'read', (e: Error) => e.message)));
      assert.match(errors[0], /unsafe/, `${name}: ${errors[0]}`);
      assert.is(errors[0], errors[1], name);
    }
    // Two folders whose names decode alike (invalid UTF-8): each keeps its own entries, or none is listed.
    const x = mktree([`100644 blob ${blob}\tx.yaml`]), y = mktree([`100644 blob ${repo.git('hash-object', '-w', '--stdin')}\ty.yaml`]);
    const root = execFileSync('git', ['mktree'], { cwd: repo.dir, input: Buffer.concat([Buffer.from(`040000 tree ${x}\td`), Buffer.from([0xfe]), Buffer.from(`\n040000 tree ${y}\td`), Buffer.from([0xff]), Buffer.from('\n')]) }).toString().trim();
    const listed = await listTrees(gitdir, root);
    if (listed) {
      assert.equal(listed.get(x)!.map((e) => e.path), ['x.yaml']);
      assert.equal(listed.get(y)!.map((e) => e.path), ['y.yaml']);
    }
    // Whichever: a cold read of it with git reads what one without git reads, each folder with its own file.
    const both = execFileSync('git', ['commit-tree', root, '-m', 'alike'], { cwd: repo.dir, encoding: 'utf8' }).trim();
    const withIt = await withGit('git', () => sourceFor(repo.dir).read(both));
    const without = await withGit('', () => sourceFor(repo.dir).read(both));
    assert.equal(withIt.files.map((f) => f.path.slice(2)), ['/x.yaml', '/y.yaml']);
    assert.equal(withIt, without);
  } finally {
    repo.cleanup();
  }
});

test.run();
