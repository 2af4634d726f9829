// Many blobs read through `git cat-file --batch` (src/source/cat-file.ts), and the tree reader's use of it: a read of
// BATCH_MIN blobs or more asks git, and gives what reading them itself gives (replace refs and a hook's GIT_*
// variables change nothing); without git, for a partial clone, or where git fails (a damaged pack, a missing object),
// the reader reads them itself and names what is wrong as before.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { catFileBlobs } from '../../src/source/cat-file.ts';
import { BATCH_MIN } from '../../src/source/tree-reader.ts';
import { damage, sourceError, sourceFor, withGit } from './helpers.ts';

/** `n` manifests in a few folders, each its own blob. */
function manyFiles(n: number): TestRepo {
  return makeRepo(Object.fromEntries(Array.from({ length: n }, (_, i) => [`deploy/team-${i % 4}/cm-${i}.yaml`, `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\ndata:\n  v: "${i}"\n`])));
}

const withoutGit = <T>(fn: () => Promise<T>) => withGit('', fn);

const leftInTmp = () => readdirSync(tmpdir()).filter((f) => f.startsWith(`convergit-git-${process.pid}-`));

test('catFileBlobs: each blob as git has it, loose and packed; a tree and a missing object left out; no git or no repository: undefined', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n', 'dir/b.yaml': 'b: 2\n' });
  try {
    const gitdir = join(repo.dir, '.git');
    const a = repo.git('rev-parse', 'HEAD:a.yaml'), b = repo.git('rev-parse', 'HEAD:dir/b.yaml'), tree = repo.git('rev-parse', 'HEAD:dir');
    const missing = 'f'.repeat(40);
    const text = (m: Map<string, Uint8Array> | undefined) => m && Object.fromEntries([...m].map(([k, v]) => [k, Buffer.from(v).toString()]));
    const asked = [a, tree, missing, b, a];
    assert.equal(text(await catFileBlobs(gitdir, asked)), { [a]: 'a: 1\n', [b]: 'b: 2\n' });
    repo.git('gc', '--quiet');
    assert.equal(text(await catFileBlobs(gitdir, asked)), { [a]: 'a: 1\n', [b]: 'b: 2\n' }, 'packed');
    assert.is(await catFileBlobs(join(repo.dir, 'nothing-here'), [a]), undefined);
    assert.is(await withoutGit(() => catFileBlobs(gitdir, [a])), undefined);
    assert.is(await withGit('/nonexistent/git', () => catFileBlobs(gitdir, [a])), undefined, 'no such git');
    assert.equal(leftInTmp(), [], 'its output file is gone');
  } finally {
    repo.cleanup();
  }
});

test(`a read of ${BATCH_MIN} blobs or more asks git, and gives what reading them here gives`, async () => {
  const repo = manyFiles(BATCH_MIN + 10);
  try {
    const sha = repo.git('rev-parse', 'HEAD');
    const batched = sourceFor(repo.dir, { path: 'deploy' });
    const viaGit = await batched.read(sha);
    assert.is(batched.stats.blobsFromGit, BATCH_MIN + 10);
    assert.is(batched.stats.blobsRead, BATCH_MIN + 10);
    const alone = sourceFor(repo.dir, { path: 'deploy' });
    const without = await withoutGit(() => alone.read(sha));
    assert.is(alone.stats.blobsFromGit, 0);
    assert.equal(viaGit, without);
    // A one-file commit's read stays here.
    repo.write('deploy/team-0/cm-0.yaml', 'changed: true\n');
    const next = repo.commit('one file');
    await batched.read(next);
    assert.is(batched.stats.blobsFromGit, BATCH_MIN + 10);
    assert.is(batched.stats.blobsRead, BATCH_MIN + 11);
    // Fewer than BATCH_MIN: read here.
    const few = manyFiles(BATCH_MIN - 1);
    try {
      const source = sourceFor(few.dir, { path: 'deploy' });
      await source.read(few.git('rev-parse', 'HEAD'));
      assert.is(source.stats.blobsFromGit, 0);
      assert.is(source.stats.blobsRead, BATCH_MIN - 1);
    } finally {
      few.cleanup();
    }
  } finally {
    repo.cleanup();
  }
});

test('where git fails (a damaged pack, a missing object), the blobs are read here and the bad one named with its path', async () => {
  const repo = manyFiles(BATCH_MIN + 10);
  try {
    repo.git('gc', '--quiet');
    // The blobs packed, the commit and trees that hold them now loose (isomorphic-git, which reads those, would
    // stop at the damaged pack first).
    const blob = repo.git('rev-parse', 'HEAD:deploy/team-1/cm-5.yaml');
    for (let t = 0; t < 4; t++) repo.write(`deploy/team-${t}/new.yaml`, `new: ${t}\n`);
    const sha = repo.commit('a new file in each folder');
    damage(repo, blob);
    const source = sourceFor(repo.dir, { path: 'deploy' });
    const e = await sourceError(() => source.read(sha));
    assert.is(e.reason, 'CorruptObject');
    assert.match(e.message, `cannot read blob ${blob} at 'deploy/team-1/cm-5.yaml'`, e.message);
  } finally {
    repo.cleanup();
  }
  const loose = manyFiles(BATCH_MIN + 10);
  try {
    const blob = loose.git('rev-parse', 'HEAD:deploy/team-2/cm-6.yaml');
    rmSync(join(loose.dir, '.git/objects', blob.slice(0, 2), blob.slice(2)));
    const source = sourceFor(loose.dir, { path: 'deploy' });
    const e = await sourceError(() => source.read(loose.git('rev-parse', 'HEAD')));
    assert.is(e.reason, 'CorruptObject');
    assert.match(e.message, `cannot read blob ${blob} at 'deploy/team-2/cm-6.yaml'`);
    assert.is(source.stats.blobsFromGit, BATCH_MIN + 9, 'the others as git read them');
  } finally {
    loose.cleanup();
  }
});

test('the objects as they are: not a replace ref\'s, nor another object folder a hook\'s GIT_OBJECT_DIRECTORY names', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n', 'b.yaml': 'b: 2\n' });
  const other = makeRepo({ 'c.yaml': 'c: 3\n' });
  const saved = process.env.GIT_OBJECT_DIRECTORY;
  try {
    const gitdir = join(repo.dir, '.git');
    const a = repo.git('rev-parse', 'HEAD:a.yaml'), b = repo.git('rev-parse', 'HEAD:b.yaml');
    repo.git('replace', a, b);
    assert.is(repo.git('cat-file', '-p', a), 'b: 2', 'git itself reads the replacement');
    process.env.GIT_OBJECT_DIRECTORY = join(other.dir, '.git/objects');
    const read = await catFileBlobs(gitdir, [a, b]);
    assert.equal(read && [...read].map(([k, v]) => [k, Buffer.from(v).toString()]), [[a, 'a: 1\n'], [b, 'b: 2\n']]);
  } finally {
    if (saved === undefined) delete process.env.GIT_OBJECT_DIRECTORY;
    else process.env.GIT_OBJECT_DIRECTORY = saved;
    repo.cleanup();
    other.cleanup();
  }
});

test('a partial clone is read here: git would fetch what it lacks', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const a = repo.git('rev-parse', 'HEAD:a.yaml');
    const gitdir = join(repo.dir, '.git');
    assert.ok(await catFileBlobs(gitdir, [a]));
    repo.git('config', 'remote.origin.promisor', 'true');
    repo.git('config', 'extensions.partialClone', 'origin');
    assert.is(await catFileBlobs(gitdir, [a]), undefined);
  } finally {
    repo.cleanup();
  }
});

test.run();
