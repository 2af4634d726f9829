import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { cpSync, renameSync, rmSync } from 'node:fs';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import type { GitSource } from '../../src/source/git-source.ts';
import { activeResources, sourceFor, waitFor } from './helpers.ts';

/** Watches like the sync loop does: each onChange → head(); records the heads seen. */
async function watching(source: GitSource) {
  const seen: string[] = [];
  let calls = 0;
  const stop = source.watch(() => {
    calls++;
    source.head().then((h) => seen.push(h), () => seen.push('error'));
  });
  await waitFor('the watcher to be ready', () => calls > 0);
  return { seen, stop, calls: () => calls };
}

const NO_POLL = 60_000; // so only the file watcher can deliver the change

function checkWatcher(repo: TestRepo) {
  return async () => {
    try {
      const source = sourceFor(repo.dir, { pollInterval: NO_POLL });
      const w = await watching(source);
      repo.write('b.yaml', 'b: 1\n');
      const second = repo.commit('second');
      await waitFor('the watcher to see the second commit', () => w.seen.includes(second));

      // gc moves refs/heads/main into packed-refs; the commit right after it writes a loose ref again.
      repo.git('gc', '--quiet');
      repo.write('c.yaml', 'c: 1\n');
      const third = repo.commit('right after gc');
      await waitFor('the watcher to see the commit after gc', () => w.seen.includes(third));

      repo.git('pack-refs', '--all');
      repo.write('d.yaml', 'd: 1\n');
      const fourth = repo.commit('after pack-refs');
      await waitFor('the watcher to see the commit after pack-refs', () => w.seen.includes(fourth));
      await w.stop();
    } finally {
      repo.cleanup();
    }
  };
}

test('the watcher sees new commits in a working tree, also right after git gc', checkWatcher(makeRepo({ 'a.yaml': 'a: 1\n' })));

// chokidar drops a file's change event that comes within 50 ms of its last one: a commit made as soon as the last
// was seen (a bot pushing, the bench's commits) was left to the poll, 10 s later, in ~1 of 10 commits.
test('the watcher sees each of 25 commits made as soon as the one before was seen', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 0\n' });
  const w = await watching(sourceFor(repo.dir, { pollInterval: NO_POLL }));
  try {
    for (let i = 1; i <= 25; i++) {
      repo.write('a.yaml', `a: ${i}\n`);
      const sha = repo.commit(`quick ${i}`);
      await waitFor(`the watcher to see quick commit ${i}`, () => w.seen.includes(sha), 2000);
    }
    // What a commit writes beside its ref (the index, objects/) is not a change: a `git add` is no call. A call that
    // does not come can only be waited for over a window; the next commit shows the watch was still there.
    const calls = w.calls();
    repo.write('b.yaml', 'b: 1\n');
    repo.git('add', '-A');
    await new Promise((r) => setTimeout(r, 300));
    assert.is(w.calls(), calls, 'git add (index, objects) called onChange');
    const last = repo.commit('after add');
    await waitFor('the watcher to see the commit after git add', () => w.seen.includes(last), 2000);
  } finally {
    await w.stop();
    repo.cleanup();
  }
});

test('the watcher sees commits pushed to a bare repository', checkWatcher(makeRepo({ 'a.yaml': 'a: 1\n' }, { bare: true })));

test('a burst of events (several commits at once) is debounced into few calls', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const source = sourceFor(repo.dir, { pollInterval: NO_POLL, debounce: 200 });
    const w = await watching(source);
    const before = w.calls();
    let last = '';
    for (let i = 0; i < 5; i++) {
      repo.write('a.yaml', `a: ${i}\n`);
      last = repo.commit(`commit ${i}`);
    }
    await waitFor('the watcher to see the last commit', () => w.seen.includes(last));
    assert.ok(w.calls() - before < 5, `${w.calls() - before} calls for 5 commits`);
    await w.stop();
  } finally {
    repo.cleanup();
  }
});

test('a caller that already read the head gets no call when the watch becomes ready, only for the next commit', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const source = sourceFor(repo.dir, { pollInterval: NO_POLL });
    const first = await source.head(); // as serve's sync loop does while the watch starts
    const seen: string[] = [];
    let ready = false;
    const stop = source.watch(() => void source.head().then((h) => seen.push(h)), { ready: () => (ready = true) });
    try {
      await waitFor('the watch to be ready', () => ready);
      await source.head(); // after any read a call at readiness began (reads of one file finish in order)
      repo.write('b.yaml', 'b: 1\n');
      const second = repo.commit('second');
      await waitFor('the watcher to see the second commit', () => seen.includes(second));
      assert.not.ok(seen.includes(first), `a call for the head the caller had: ${seen.join(', ')}`);
    } finally {
      await stop();
    }
  } finally {
    repo.cleanup();
  }
});

test('the safety-net poll notices a new head on its own', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    // A debounce longer than the test: file events never get through, only the poll can call onChange.
    const source = sourceFor(repo.dir, { pollInterval: 50, debounce: 60_000 });
    const w = await watching(source);
    await waitFor('the initial head', () => w.seen.length > 0);
    repo.write('b.yaml', 'b: 1\n');
    const second = repo.commit('second');
    await waitFor('the poll to see the second commit', () => w.seen.includes(second));
    await w.stop();
  } finally {
    repo.cleanup();
  }
});

test('the repository removed while watched: onChange, and lastError says RepositoryNotFound', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  const source = sourceFor(repo.dir, { pollInterval: 50 });
  const w = await watching(source);
  repo.cleanup();
  await waitFor('lastError', () => source.lastError);
  assert.is(source.lastError?.reason, 'RepositoryNotFound');
  await waitFor('the caller to see the error', () => w.seen.includes('error'));
  await w.stop();
});

test('a repository replaced by a new folder while watched: recovery is reported, later commits are seen', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const source = sourceFor(repo.dir, { pollInterval: 50 });
    const w = await watching(source);
    renameSync(repo.dir, `${repo.dir}.old`);
    await waitFor('lastError', () => source.lastError);
    cpSync(`${repo.dir}.old`, repo.dir, { recursive: true }); // new inodes: the old file watches see nothing here
    await waitFor('recovery', () => !source.lastError);
    const calls = w.calls();
    repo.write('b.yaml', 'b: 1\n');
    const second = repo.commit('after the move');
    await waitFor('the commit in the new folder', () => w.seen.includes(second));
    assert.ok(w.calls() > calls);
    await w.stop();
  } finally {
    rmSync(`${repo.dir}.old`, { recursive: true, force: true });
    repo.cleanup();
  }
});

test('stop() leaves no timer or file watcher behind', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const before = activeResources();
    const source = sourceFor(repo.dir, { pollInterval: 50 });
    const w = await watching(source);
    assert.ok(activeResources().includes('FSEventWrap'), 'watching holds file watchers');
    repo.write('b.yaml', 'b: 1\n');
    const second = repo.commit('second');
    await waitFor('the second commit', () => w.seen.includes(second));
    await w.stop();
    // fs.watch handles are released on the loop's next close phase; chokidar may leave a short timer or two.
    const count = (list: string[], type: string) => list.filter((r) => r === type).length;
    await waitFor('handles to be released', () => {
      const now = activeResources();
      return !now.includes('FSEventWrap') && count(now, 'Timeout') <= count(before, 'Timeout');
    }, 1000);
  } finally {
    repo.cleanup();
  }
});

test.run();
