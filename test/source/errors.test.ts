import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { SourceError } from '../../src/source/git-source.ts';
import { sourceError, sourceFor, tempDir } from './helpers.ts';

test('SourceError is an Error with a reason', () => {
  const e = new SourceError('RefNotFound', 'nope');
  assert.instance(e, Error);
  assert.is(e.name, 'SourceError');
  assert.is(e.reason, 'RefNotFound');
});

test('a repository folder that does not exist, or is not a repository → RepositoryNotFound', async () => {
  const tmp = tempDir();
  try {
    const missing = await sourceError(() => sourceFor(join(tmp.dir, 'nope')).prepare());
    assert.is(missing.reason, 'RepositoryNotFound');
    assert.match(missing.message, `${join(tmp.dir, 'nope')} does not exist`);
    mkdirSync(join(tmp.dir, 'plain'));
    writeFileSync(join(tmp.dir, 'plain/a.yaml'), 'a: 1\n');
    const plain = await sourceError(() => sourceFor(join(tmp.dir, 'plain')).prepare());
    assert.is(plain.reason, 'RepositoryNotFound');
    assert.match(plain.message, 'is not a git repository');
    assert.is((await sourceError(() => sourceFor(join(tmp.dir, 'plain')).head())).reason, 'RepositoryNotFound');
  } finally {
    tmp.cleanup();
  }
});

test('the repository removed after prepare → RepositoryNotFound from head(), resolve() and read()', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  const source = sourceFor(repo.dir);
  await source.prepare();
  const sha = await source.head();
  repo.cleanup();
  for (const call of [() => source.head(), () => source.resolve('main'), () => source.read(sha)]) {
    const e = await sourceError(call);
    assert.is(e.reason, 'RepositoryNotFound');
    assert.match(e.message, repo.dir);
  }
});

test('a missing branch → BranchNotFound naming the branch and the repository', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const e = await sourceError(() => sourceFor(repo.dir, { branch: 'prod' }).head());
    assert.is(e.reason, 'BranchNotFound');
    assert.match(e.message, `branch 'prod' not found in ${repo.dir}`);
  } finally {
    repo.cleanup();
  }
});

test('an unknown ref, sha or non-commit object → RefNotFound', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const source = sourceFor(repo.dir);
    for (const ref of ['nope', 'deadbeef', '0'.repeat(40), repo.git('rev-parse', 'HEAD:a.yaml'), '']) {
      const e = await sourceError(() => source.resolve(ref));
      assert.is(e.reason, 'RefNotFound', ref);
      assert.match(e.message, `ref '${ref}' not found in ${repo.dir}`);
    }
  } finally {
    repo.cleanup();
  }
});

test('a deleted loose object, or a corrupt one → CorruptObject naming the object', async () => {
  const repo = makeRepo({ 'apps/a.yaml': 'a: 1\n', 'apps/b.yaml': 'b: 1\n' });
  try {
    const sha = repo.git('rev-parse', 'HEAD');
    const blob = repo.git('rev-parse', 'HEAD:apps/b.yaml');
    const blobFile = join(repo.dir, '.git/objects', blob.slice(0, 2), blob.slice(2));
    rmSync(blobFile);
    let e = await sourceError(() => sourceFor(repo.dir).read(sha));
    assert.is(e.reason, 'CorruptObject');
    assert.match(e.message, `commit ${sha} of ${repo.dir}: cannot read blob ${blob} at 'apps/b.yaml'`);

    writeFileSync(blobFile, 'not zlib at all');
    e = await sourceError(() => sourceFor(repo.dir).read(sha));
    assert.is(e.reason, 'CorruptObject');
    assert.match(e.message, `cannot read blob ${blob}`);

    const tree = repo.git('rev-parse', 'HEAD:apps');
    rmSync(join(repo.dir, '.git/objects', tree.slice(0, 2), tree.slice(2)));
    e = await sourceError(() => sourceFor(repo.dir, { path: 'apps' }).read(sha));
    assert.is(e.reason, 'CorruptObject');
    assert.match(e.message, tree);

    rmSync(join(repo.dir, '.git/objects', sha.slice(0, 2), sha.slice(2)));
    e = await sourceError(() => sourceFor(repo.dir).read(sha));
    assert.is(e.reason, 'CorruptObject');
    assert.match(e.message, sha);
  } finally {
    repo.cleanup();
  }
});

test('a path that is missing or a file → PathNotFound naming path and commit', async () => {
  const repo = makeRepo({ 'apps/a.yaml': 'a: 1\n' });
  try {
    const sha = repo.git('rev-parse', 'HEAD');
    let e = await sourceError(() => sourceFor(repo.dir, { path: 'apps/web' }).read(sha));
    assert.is(e.reason, 'PathNotFound');
    assert.match(e.message, `commit ${sha} of ${repo.dir}: path 'apps/web' is missing`);
    e = await sourceError(() => sourceFor(repo.dir, { path: 'apps/a.yaml' }).read(sha));
    assert.is(e.reason, 'PathNotFound');
    assert.match(e.message, 'is not a directory');
  } finally {
    repo.cleanup();
  }
});

test('invalid UTF-8: read() gives the file a problem at its position (reused by oid when moved); the build read → InvalidContent', async () => {
  const repo = makeRepo({ 'apps/ok.yaml': 'a: 1\n' });
  try {
    writeFileSync(join(repo.work, 'apps/bad.yaml'), Buffer.concat([Buffer.from('a: 1\nb: "x'), Buffer.from([0xc3, 0x28]), Buffer.from('"\n')]));
    const first = repo.commit('bad bytes');
    const source = sourceFor(repo.dir, { path: 'apps' });
    const bad = (await source.read(first)).files.find((f) => f.path === 'apps/bad.yaml')!;
    assert.equal([bad.content, bad.problem?.line, bad.problem?.column], ['', 2, 6]);
    assert.match(bad.problem!.message, 'byte offset 10 (c3 28 22 0a)');
    // Moved: the same blob, taken from the last read without reading it again, keeps its problem.
    repo.git('mv', 'apps/bad.yaml', 'apps/moved.yaml');
    const moved = (await source.read(repo.commit('move'))).files.find((f) => f.path === 'apps/moved.yaml')!;
    assert.equal(moved.problem, bad.problem);
    const e = await sourceError(() => source.revisionTree(first).read('apps/bad.yaml'));
    assert.is(e.reason, 'InvalidContent');
    assert.match(e.message, `apps/bad.yaml:2:6 at ${first.slice(0, 7)}: file is not valid UTF-8`);
  } finally {
    repo.cleanup();
  }
});

test.run();
