import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, lstatSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportTree } from '../../src/source/export-tree.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';

let repo: TestRepo;
let dest = '';
let sha = '';

test.before.each(() => {
  repo = makeRepo({
    'apps/web/server.js': 'console.log("hi")\n',
    'apps/web/run.sh': '#!/bin/sh\nexec node server.js\n',
    'apps/web/static/index.html': '<h1>hi</h1>\n',
    'apps/web/static/empty.txt': '',
    'deploy/web.yaml': 'kind: Deployment\n',
  });
  chmodSync(join(repo.work, 'apps/web/run.sh'), 0o755);
  repo.link('apps/web/current', 'static/index.html');
  repo.git('add', '-A');
  // A submodule entry: a gitlink to a commit that is not in this repository.
  repo.git('update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},apps/web/vendored`);
  repo.git('commit', '--quiet', '-m', 'app');
  sha = repo.git('rev-parse', 'HEAD');
  dest = join(mkdtempSync(join(tmpdir(), 'convergit-export-')), 'out');
});
test.after.each(() => {
  repo.cleanup();
  rmSync(join(dest, '..'), { recursive: true, force: true });
});

const gitdir = () => join(repo.dir, '.git');
/** The tree of apps/web at a commit, as git sees it. */
const webTree = (commit: string) => repo.git('rev-parse', `${commit}:apps/web`);

test('GitSource.treeOid finds a folder tree as git does, and nothing for files or missing paths', async () => {
  const source = new GitSource({ repo: repo.dir, branch: 'main', path: '', dataDir: tmpdir(), interval: 0 });
  assert.is(await source.treeOid(sha, 'apps/web'), repo.git('rev-parse', `${sha}:apps/web`));
  assert.is(await source.treeOid(sha, ''), repo.git('rev-parse', `${sha}^{tree}`));
  assert.is(await source.treeOid(sha, 'apps'), repo.git('rev-parse', `${sha}:apps`));
  assert.is(await source.treeOid(sha, 'apps/nope'), undefined);
  assert.is(await source.treeOid(sha, 'apps/web/run.sh'), undefined);
  assert.is(await source.treeOid(sha, 'apps/web/vendored'), undefined, 'a submodule is no folder');
});

test('exportTree writes files, folders, modes and symlinks, and skips submodules', async () => {
  const oid = webTree(sha);
  await exportTree({ gitdir: gitdir(), oid, dest });
  assert.is(readFileSync(join(dest, 'server.js'), 'utf8'), 'console.log("hi")\n');
  assert.is(readFileSync(join(dest, 'static/index.html'), 'utf8'), '<h1>hi</h1>\n');
  assert.is(readFileSync(join(dest, 'static/empty.txt'), 'utf8'), '');
  assert.is(statSync(join(dest, 'run.sh')).mode & 0o777, 0o755);
  assert.is(statSync(join(dest, 'server.js')).mode & 0o777, 0o644);
  assert.ok(lstatSync(join(dest, 'current')).isSymbolicLink());
  assert.is(readlinkSync(join(dest, 'current')), 'static/index.html');
  assert.is(readFileSync(join(dest, 'current'), 'utf8'), '<h1>hi</h1>\n');
  assert.not.ok(existsSync(join(dest, 'vendored')));
  assert.not.ok(existsSync(join(dest, 'web.yaml')), 'only the tree asked for');
});

test('exportTree of the same content after a change elsewhere is the same tree', async () => {
  const before = webTree(sha);
  // Only the changed file is staged: `add -A` or `commit -a` would drop the gitlink (its folder is not checked out).
  const commit = (path: string) => { repo.git('add', path); repo.git('commit', '--quiet', '-m', path); return repo.git('rev-parse', 'HEAD'); };
  repo.write('deploy/web.yaml', 'kind: Deployment\nspec: {}\n');
  const next = commit('deploy/web.yaml');
  assert.is(webTree(next), before);
  repo.write('apps/web/server.js', 'console.log("v2")\n');
  const v2 = commit('apps/web/server.js');
  const after = webTree(v2);
  assert.is.not(after, before);
  await exportTree({ gitdir: gitdir(), oid: after, dest });
  assert.is(readFileSync(join(dest, 'server.js'), 'utf8'), 'console.log("v2")\n');
});

test('a missing tree is a CorruptObject error naming it', async () => {
  const missing = 'f'.repeat(40);
  try {
    await exportTree({ gitdir: gitdir(), oid: missing, dest });
    assert.unreachable('should throw');
  } catch (e) {
    assert.is((e as { reason?: string }).reason, 'CorruptObject');
    assert.match((e as Error).message, missing);
  }
});

test('exportTree creates the missing parents of dest', async () => {
  const oid = repo.git('rev-parse', `${sha}:deploy`);
  await exportTree({ gitdir: gitdir(), oid, dest: join(dest, 'nested', 'deeper') });
  assert.is(readFileSync(join(dest, 'nested/deeper/web.yaml'), 'utf8'), 'kind: Deployment\n');
});

test.run();
