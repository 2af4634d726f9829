import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import type { GitSource } from '../../src/source/git-source.ts';
import { sourceFor } from './helpers.ts';

/** 3 × 3 folders × 5 files = 45 manifests, plus a folder outside `apps/`. */
function nestedRepo(): TestRepo {
  const files: Record<string, string> = { 'docs/guide.yaml': 'doc: 1\n' };
  for (const a of ['a', 'b', 'c']) for (const x of ['x', 'y', 'z']) for (let i = 0; i < 5; i++) {
    files[`apps/${a}/${x}/f${i}.yaml`] = `name: ${a}-${x}-${i}\n`;
  }
  return makeRepo(files);
}

/** Reads `sha` and returns what it cost; checks the result against a cold read by a fresh source. */
async function costOf(source: GitSource, repo: TestRepo, sha: string, path: string) {
  const before = { ...source.stats };
  const rev = await source.read(sha);
  const cold = await sourceFor(repo.dir, { path }).read(sha);
  assert.equal(rev, cold, 'an incremental read equals a cold read');
  return { rev, trees: source.stats.treesRead - before.treesRead, blobs: source.stats.blobsRead - before.blobsRead };
}

test('cold read lists every tree and reads every blob once', async () => {
  const repo = nestedRepo();
  try {
    const source = sourceFor(repo.dir, { path: 'apps' });
    const { rev, trees, blobs } = await costOf(source, repo, await source.head(), 'apps');
    assert.is(rev.files.length, 45);
    assert.is(blobs, 45);
    assert.is(trees, 1 + 1 + 3 + 9, 'root (to find apps), apps, 3 folders, 9 subfolders');
  } finally {
    repo.cleanup();
  }
});

test('one changed file among many in nested folders → 1 blob, only the trees on its path', async () => {
  const repo = nestedRepo();
  try {
    const source = sourceFor(repo.dir, { path: 'apps' });
    await source.read(await source.head());
    repo.write('apps/b/y/f3.yaml', 'name: changed\n');
    const { rev, trees, blobs } = await costOf(source, repo, repo.commit('one file'), 'apps');
    assert.is(blobs, 1);
    assert.is(trees, 4, 'root, apps, apps/b, apps/b/y');
    assert.is(rev.files.find((f) => f.path === 'apps/b/y/f3.yaml')?.content, 'name: changed\n');
  } finally {
    repo.cleanup();
  }
});

test('an unchanged file is handed over as the same object, in a changed folder too; the changed one and a moved one are new', async () => {
  const repo = nestedRepo();
  try {
    const source = sourceFor(repo.dir, { path: 'apps' });
    const before = await source.read(await source.head());
    repo.write('apps/b/y/f3.yaml', 'name: changed\n');
    repo.git('mv', 'apps/c/z/f0.yaml', 'apps/c/z/moved.yaml');
    const { rev, blobs } = await costOf(source, repo, repo.commit('one file and a move'), 'apps');
    assert.is(blobs, 1, 'the moved file\'s blob is not read again');
    const was = new Map(before.files.map((f) => [f.path, f]));
    const kept = rev.files.filter((f) => was.get(f.path) === f).map((f) => f.path);
    assert.is(kept.length, 43, 'all but the changed and the moved one');
    assert.ok(kept.includes('apps/b/y/f0.yaml') && kept.includes('apps/c/z/f1.yaml'), 'the changed folders\' other files too');
    assert.not.ok(kept.includes('apps/b/y/f3.yaml') || kept.includes('apps/c/z/moved.yaml'));
  } finally {
    repo.cleanup();
  }
});

test('onRead is told of each file as its blob is read, with its content: every file cold, the changed one after', async () => {
  const repo = nestedRepo();
  try {
    const source = sourceFor(repo.dir, { path: 'apps' });
    const seen: { path: string; content: string }[] = [];
    const onRead = (f: { path: string; content: string }) => seen.push({ path: f.path, content: f.content });
    const cold = await source.read(await source.head(), { onRead });
    assert.equal([...seen].sort((a, b) => a.path.localeCompare(b.path)), cold.files.map((f) => ({ path: f.path, content: f.content })));
    seen.length = 0;
    repo.write('apps/c/z/f1.yaml', 'name: new\n');
    await source.read(repo.commit('one file'), { onRead });
    assert.equal(seen, [{ path: 'apps/c/z/f1.yaml', content: 'name: new\n' }], 'unchanged folders are not read again');
    seen.length = 0;
    await source.read(await source.head(), { onRead, unread: (p) => p.endsWith('f0.yaml') });
    assert.is(seen.length, 45 - 9, 'files left unread are not handed over');
    assert.ok(seen.every((f) => !f.path.endsWith('f0.yaml')));
  } finally {
    repo.cleanup();
  }
});

test('onListed is told of every blob the read will read before the first is read: all cold, the changed one after, none left unread', async () => {
  const repo = nestedRepo();
  try {
    const source = sourceFor(repo.dir, { path: 'apps' });
    const events: string[] = [];
    const opts = { onListed: (p: string) => events.push(`listed ${p}`), onRead: (f: { path: string }) => events.push(`read ${f.path}`) };
    const cold = await source.read(await source.head(), opts);
    const firstRead = events.findIndex((e) => e.startsWith('read '));
    assert.equal(events.slice(0, firstRead).map((e) => e.slice(7)).sort(), cold.files.map((f) => f.path), 'every file listed before any is read');
    assert.is(events.length, 2 * 45);
    events.length = 0;
    repo.write('apps/a/x/f2.yaml', 'name: new\n');
    await source.read(repo.commit('one file'), opts);
    assert.equal(events, ['listed apps/a/x/f2.yaml', 'read apps/a/x/f2.yaml'], 'unchanged files are not read, nor listed as to be');
    events.length = 0;
    await source.read(await source.head(), { ...opts, unread: (p) => !p.endsWith('f0.yaml') });
    assert.is(events.filter((e) => e.startsWith('listed ')).length, 9, 'files left unread are not listed as to be read');
  } finally {
    repo.cleanup();
  }
});

test('unchanged tree at path → cached files, 0 blobs (a commit outside path, an empty commit)', async () => {
  const repo = nestedRepo();
  try {
    const source = sourceFor(repo.dir, { path: 'apps' });
    const first = await source.read(await source.head());
    repo.write('docs/guide.yaml', 'doc: 2\n');
    const outside = await costOf(source, repo, repo.commit('docs only'), 'apps');
    assert.is(outside.blobs, 0);
    assert.is(outside.rev.tree, first.tree);
    assert.is(outside.rev.files, first.files, 'the very same cached array');
    assert.is(outside.rev.message, 'docs only', 'metadata is the new commit');
    const empty = await costOf(source, repo, repo.commit('empty'), 'apps');
    assert.is(empty.blobs, 0);
  } finally {
    repo.cleanup();
  }
});

test('a deleted file disappears, a renamed or copied file costs no blob, a new file costs one', async () => {
  const repo = nestedRepo();
  try {
    const source = sourceFor(repo.dir, { path: 'apps' });
    await source.read(await source.head());

    repo.remove('apps/a/x/f0.yaml');
    const deleted = await costOf(source, repo, repo.commit('delete'), 'apps');
    assert.is(deleted.blobs, 0);
    assert.is(deleted.rev.files.length, 44);
    assert.not.ok(deleted.rev.files.some((f) => f.path === 'apps/a/x/f0.yaml'));

    repo.git('mv', 'apps/c', 'apps/d');
    const renamed = await costOf(source, repo, repo.commit('rename a folder'), 'apps');
    assert.is(renamed.blobs, 0);
    assert.ok(renamed.rev.files.some((f) => f.path === 'apps/d/z/f4.yaml'));

    repo.write('apps/new/one.yml', 'new: 1\n');
    const added = await costOf(source, repo, repo.commit('add'), 'apps');
    assert.is(added.blobs, 1);
    assert.is(added.rev.files.length, 45);

    repo.remove('apps/a');
    const folder = await costOf(source, repo, repo.commit('delete a folder'), 'apps');
    assert.is(folder.blobs, 0);
    assert.is(folder.rev.files.length, 31);
  } finally {
    repo.cleanup();
  }
});

test('reading back and forth between commits (a rollback) stays correct and cheap', async () => {
  const repo = nestedRepo();
  try {
    const source = sourceFor(repo.dir, { path: 'apps' });
    const first = await source.head();
    await source.read(first);
    repo.write('apps/a/z/f1.yaml', 'name: v2\n');
    const second = repo.commit('v2');
    assert.is((await costOf(source, repo, second, 'apps')).blobs, 1);
    const back = await costOf(source, repo, first, 'apps');
    assert.is(back.blobs, 1, 'the old content is read again: only the last revision is cached');
    assert.is(back.rev.files.find((f) => f.path === 'apps/a/z/f1.yaml')?.content, 'name: a-z-1\n');
  } finally {
    repo.cleanup();
  }
});

test('warm() reads the head, handing its files over, so that the next read of it reads nothing; a missing branch is left to that read', async () => {
  const repo = nestedRepo();
  try {
    const source = sourceFor(repo.dir, { path: 'apps' });
    const handed: string[] = [];
    await source.warm({ onRead: (f) => handed.push(f.path) }); // as serve hands them to the loader's parse workers
    assert.is(source.stats.blobsRead, 45, 'warm read every blob');
    assert.is(handed.length, 45, 'every file read handed over');
    const { rev, blobs } = await costOf(source, repo, await source.head(), 'apps');
    assert.is(rev.files.length, 45);
    assert.is(blobs, 0, 'the read after warm() read no blob');
    const missing = sourceFor(repo.dir, { path: 'apps', branch: 'nope' });
    await missing.warm(); // does not throw
    const err = await missing.head().then(() => undefined, (e: Error) => e);
    assert.match(err?.message ?? '', /branch 'nope' not found/, 'the read after it says why');
  } finally {
    repo.cleanup();
  }
});

test.run();
