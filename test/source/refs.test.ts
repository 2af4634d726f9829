import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { sourceFor } from './helpers.ts';

test('head() after git gc: the branch lives in packed-refs, objects in a pack', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    // One long-lived source across the gc: its cached pack indexes must not go stale.
    const source = sourceFor(repo.dir);
    await source.read(await source.head());
    repo.write('b.yaml', 'b: 1\n');
    const sha = repo.commit('second');
    repo.git('gc', '--quiet', '--prune=now');
    assert.not.ok(existsSync(join(repo.dir, '.git/refs/heads/main')), 'loose ref gone');
    assert.is(await source.head(), sha);
    assert.equal((await source.read(sha)).files.map((f) => f.path), ['a.yaml', 'b.yaml']);
    // A commit after gc writes a loose ref again, which wins over packed-refs.
    repo.write('c.yaml', 'c: 1\n');
    const next = repo.commit('third');
    assert.is(await source.head(), next);
    assert.is((await source.read(next)).files.length, 3);
    // A second gc replaces the pack the source has already indexed.
    repo.write('d.yaml', 'd: 1\n');
    const fourth = repo.commit('fourth');
    repo.git('gc', '--quiet', '--prune=now');
    assert.is(await source.resolve(fourth.slice(0, 8)), fourth);
    assert.is((await source.read(fourth)).files.find((f) => f.path === 'd.yaml')?.content, 'd: 1\n');
  } finally {
    repo.cleanup();
  }
});

test('head() after git pack-refs --all, in a bare repository', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' }, { bare: true });
  try {
    const sha = repo.git('rev-parse', 'main');
    repo.git('pack-refs', '--all');
    assert.not.ok(existsSync(join(repo.dir, 'refs/heads/main')));
    assert.is(await sourceFor(repo.dir).head(), sha);
  } finally {
    repo.cleanup();
  }
});

test('head() follows the configured branch, not HEAD', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const main = repo.git('rev-parse', 'main');
    repo.git('checkout', '--quiet', '-b', 'release');
    repo.write('r.yaml', 'r: 1\n');
    const release = repo.commit('on release');
    assert.is(await sourceFor(repo.dir).head(), main);
    assert.is(await sourceFor(repo.dir, { branch: 'release' }).head(), release);
  } finally {
    repo.cleanup();
  }
});

test('resolve(): branch, remote branch, lightweight and annotated tag, full and short sha, HEAD', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const first = repo.git('rev-parse', 'HEAD');
    repo.git('tag', 'v1');
    repo.git('tag', '-a', 'v1-annotated', '-m', 'release 1');
    repo.write('a.yaml', 'a: 2\n');
    const second = repo.commit('second');
    repo.git('update-ref', 'refs/remotes/origin/feature', first);
    repo.git('branch', 'old', first);
    repo.git('pack-refs', '--all');
    const source = sourceFor(repo.dir);
    assert.is(await source.resolve('main'), second);
    assert.is(await source.resolve('refs/heads/main'), second);
    assert.is(await source.resolve('old'), first);
    assert.is(await source.resolve('origin/feature'), first);
    assert.is(await source.resolve('v1'), first);
    assert.is(await source.resolve('v1-annotated'), first, 'an annotated tag peels to its commit');
    assert.is(await source.resolve(first), first);
    assert.is(await source.resolve(first.slice(0, 7)), first);
    assert.is(await source.resolve(first.slice(0, 7).toUpperCase()), first);
    assert.is(await source.resolve('HEAD'), second);
  } finally {
    repo.cleanup();
  }
});

test('resolve() of a short sha works for packed objects too', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const sha = repo.git('rev-parse', 'HEAD');
    repo.git('gc', '--quiet');
    assert.is(await sourceFor(repo.dir).resolve(sha.slice(0, 8)), sha);
  } finally {
    repo.cleanup();
  }
});

test('resolve() follows ancestry suffixes like git: HEAD~2, main^, tag^^', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const source = sourceFor(repo.dir);
    for (const n of [2, 3, 4]) { repo.write('a.yaml', `a: ${n}\n`); repo.commit(`c${n}`); }
    repo.git('tag', 'top');
    for (const ref of ['HEAD~2', 'main^^', 'top~1^', 'HEAD~~', 'HEAD^1^1']) {
      assert.is(await source.resolve(ref), repo.git('rev-parse', ref), ref);
    }
    assert.is(await source.resolve('HEAD~0'), repo.git('rev-parse', 'HEAD'));
    const err = await source.resolve('HEAD~9').catch((e) => e);
    assert.is(err.reason, 'RefNotFound');
    assert.match(err.message, /HEAD~9.*has no parent/);
  } finally {
    repo.cleanup();
  }
});

test('a packed repository (any clone) reads the same files as its loose twin, read after read', async () => {
  const files: Record<string, string> = {};
  for (let i = 0; i < 60; i++) files[`deploy/app-${i % 6}/cm-${i}.yaml`] = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-${i}}\ndata: {v: "${i}"}\n`;
  const loose = makeRepo(files), packed = makeRepo(files);
  try {
    packed.git('gc', '--quiet', '--prune=now');
    assert.not.ok(existsSync(join(packed.dir, '.git/objects', packed.git('rev-parse', 'HEAD:deploy/app-0/cm-0.yaml').trim().slice(0, 2))), 'the blobs are packed');
    const read = async (dir: string) => { const s = sourceFor(dir); return (await s.read(await s.head())).files.map((f) => [f.path, f.oid, f.content]); };
    assert.equal(await read(packed.dir), await read(loose.dir));
    // Packed again (another pack name) between two reads of one source: the second read lists the packs anew.
    const source = sourceFor(packed.dir);
    await source.read(await source.head());
    packed.write('deploy/app-0/cm-0.yaml', 'changed: 1\n');
    const sha = packed.commit('change');
    packed.git('repack', '-a', '-d', '--quiet');
    packed.git('prune-packed');
    assert.is((await source.read(sha)).files.find((f) => f.path === 'deploy/app-0/cm-0.yaml')?.content, 'changed: 1\n');
  } finally {
    loose.cleanup();
    packed.cleanup();
  }
});

test.run();
