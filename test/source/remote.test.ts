import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync } from 'node:fs';
import { promisify } from 'node:util';
import { dirname, join } from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startGitHttpServer } from '../support/git-http-server.ts';
import { GitSource } from '../../src/source/git-source.ts';
import { activeResources, sourceError, tempDir, waitFor } from './helpers.ts';

/** An upstream bare repository served over smart HTTP, and a data dir for clones. */
async function upstream(files: Record<string, string> = { 'apps/a.yaml': 'a: 1\n', 'apps/b.yaml': 'b: 1\n', 'README.md': 'x\n' }) {
  const repo = makeRepo(files, { bare: true });
  const server = await startGitHttpServer(dirname(repo.dir));
  const data = tempDir();
  const url = `${server.url}/repo.git`;
  const source = (opts: { branch?: string; interval?: number; url?: string } = {}) =>
    new GitSource({ repo: opts.url ?? url, branch: opts.branch ?? 'main', path: 'apps', dataDir: data.dir, interval: opts.interval ?? 60_000 });
  return {
    repo, server, url, data, source,
    async cleanup() {
      await server.stop();
      repo.cleanup();
      data.cleanup();
    },
  };
}

test('the test server speaks smart HTTP: the real git CLI clones from it', async () => {
  const up = await upstream();
  const into = tempDir();
  try {
    // Async: a sync exec would block this process, which is also the server.
    await promisify(execFile)('git', ['clone', '--quiet', up.url, join(into.dir, 'c')], { env: { ...process.env, GIT_TERMINAL_PROMPT: '0' } });
    assert.ok(existsSync(join(into.dir, 'c/apps/a.yaml')));
  } finally {
    into.cleanup();
    await up.cleanup();
  }
});

test('prepare() clones into dataDir/source/<name>.git; read, commit upstream, fetch → new head', async () => {
  const up = await upstream();
  try {
    const source = up.source();
    assert.is(source.remote, true);
    await source.prepare();
    assert.ok(source.gitdir.startsWith(join(up.data.dir, 'source') + '/'), source.gitdir);
    assert.match(source.gitdir, /\/127\.0\.0\.1-\d+-repo-[0-9a-f]{10}\.git$/);
    const first = await source.head();
    assert.is(first, up.repo.git('rev-parse', 'main'));
    const rev = await source.read(first);
    assert.equal(rev.files.map((f) => [f.path, f.content]), [['apps/a.yaml', 'a: 1\n'], ['apps/b.yaml', 'b: 1\n']]);

    up.repo.write('apps/b.yaml', 'b: 2\n');
    const second = up.repo.commit('upstream change');
    assert.is(await source.head(), first, 'nothing changes before a fetch');
    await source.fetch();
    assert.is(await source.head(), second);
    assert.is(await source.resolve('main'), second);
    const blobs = source.stats.blobsRead;
    const next = await source.read(second);
    assert.is(source.stats.blobsRead - blobs, 1, 'incremental over a clone too');
    assert.is(next.files[1].content, 'b: 2\n');
    assert.is(next.message, 'upstream change');
  } finally {
    await up.cleanup();
  }
});

test('tags and other branches are fetched and resolve; a force-push moves head back', async () => {
  const up = await upstream();
  try {
    const source = up.source();
    await source.prepare();
    const first = await source.head();
    up.repo.git('tag', 'v1', first);
    up.repo.write('apps/c.yaml', 'c: 1\n');
    up.repo.commit('second');
    up.repo.git('branch', 'feature', first);
    await source.fetch();
    assert.is(await source.resolve('v1'), first);
    assert.is(await source.resolve('feature'), first);
    assert.is(await source.resolve('origin/feature'), first);
    assert.is((await sourceError(() => source.resolve('nope'))).reason, 'RefNotFound');
    // Another branch of the same repository (the option changed): same clone, its branch fetched into it.
    const other = up.source({ branch: 'feature' });
    await other.prepare();
    assert.is(other.gitdir, source.gitdir);
    assert.is(await other.head(), first);
    up.repo.git('update-ref', 'refs/heads/main', first);
    await source.fetch();
    assert.is(await source.head(), first);
  } finally {
    await up.cleanup();
  }
});

test('the interval watcher fetches and notices an upstream commit', async () => {
  const up = await upstream();
  try {
    const source = up.source({ interval: 30 });
    await source.prepare();
    const seen: string[] = [];
    const stop = source.watch(() => void source.head().then((h) => seen.push(h)));
    up.repo.write('apps/c.yaml', 'c: 1\n');
    const second = up.repo.commit('second');
    await waitFor('the watcher to see the upstream commit', () => seen.includes(second));
    assert.is(source.lastError, undefined);
    await stop();
  } finally {
    await up.cleanup();
  }
});

test('a stopped server: fetch() → FetchFailed, the last clone is still readable, and reused by a new source', async () => {
  const up = await upstream();
  try {
    const source = up.source();
    await source.prepare();
    const head = await source.head();
    await up.server.stop();
    const e = await sourceError(() => source.fetch());
    assert.is(e.reason, 'FetchFailed');
    assert.match(e.message, `fetch of ${up.url} branch 'main' failed`);
    assert.is(await source.head(), head);
    assert.is((await source.read(head)).files.length, 2);

    // A restart while the server is down: prepare() reuses the clone without the network.
    const again = up.source();
    await again.prepare();
    assert.is(again.gitdir, source.gitdir);
    assert.is(await again.head(), head);
  } finally {
    await up.cleanup();
  }
});

test('the watcher survives fetch failures: lastError, one onChange per failure, then recovery', async () => {
  const up = await upstream();
  try {
    const source = up.source({ interval: 20 });
    await source.prepare();
    let attempts = 0;
    const fetch = source.fetch.bind(source);
    source.fetch = () => (attempts++, fetch());
    let calls = 0;
    const stop = source.watch(() => calls++);

    // Upstream gone (HTTP 404) for several fetches.
    renameSync(up.repo.dir, `${up.repo.dir}.off`);
    await waitFor('lastError', () => source.lastError);
    const failedAt = attempts;
    await waitFor('three more failed fetches', () => attempts >= failedAt + 3);
    assert.is(source.lastError?.reason, 'RepositoryNotFound');
    assert.is(calls, 1, 'the failure is reported once');

    // Back, with a new commit: the watcher recovers and reports it.
    renameSync(`${up.repo.dir}.off`, up.repo.dir);
    up.repo.write('apps/c.yaml', 'c: 1\n');
    const second = up.repo.commit('second');
    await waitFor('recovery', async () => !source.lastError && (await source.head()) === second);
    assert.ok(calls >= 2, 'recovery reported'); // a fetch between the rename and the commit may report it separately
    await stop();
  } finally {
    await up.cleanup();
  }
});

test('clone errors: unreachable server → FetchFailed, unknown repository → RepositoryNotFound, unknown branch → BranchNotFound', async () => {
  const up = await upstream();
  try {
    let e = await sourceError(() => up.source({ url: `${up.server.url}/nope.git` }).prepare());
    assert.is(e.reason, 'RepositoryNotFound');
    assert.match(e.message, `${up.server.url}/nope.git`);
    e = await sourceError(() => up.source({ branch: 'prod' }).prepare());
    assert.is(e.reason, 'BranchNotFound');
    assert.match(e.message, `branch 'prod' not found in ${up.url}`);
    assert.not.ok(existsSync(join(up.data.dir, 'source')) && readdirSync(join(up.data.dir, 'source')).length > 0, 'no half-made clone left');
    await up.server.stop();
    e = await sourceError(() => up.source({ url: `${up.server.url}/other.git` }).prepare());
    assert.is(e.reason, 'FetchFailed');
    e = await sourceError(() => up.source({ url: `${up.server.url}/other.git` }).head());
    assert.is(e.reason, 'RepositoryNotFound', 'no clone yet');
    assert.match(e.message, 'call prepare()');
  } finally {
    await up.cleanup();
  }
});

test('prepare() failed at start (upstream missing): a later fetch() clones, so retries heal', async () => {
  const up = await upstream();
  try {
    renameSync(up.repo.dir, `${up.repo.dir}.off`);
    const source = up.source();
    assert.is((await sourceError(() => source.prepare())).reason, 'RepositoryNotFound');
    assert.is((await sourceError(() => source.fetch())).reason, 'RepositoryNotFound');
    renameSync(`${up.repo.dir}.off`, up.repo.dir);
    await source.fetch();
    assert.is(await source.head(), up.repo.git('rev-parse', 'main'));
  } finally {
    await up.cleanup();
  }
});

test('interval 0: watch() schedules no fetch (the caller fetches)', async () => {
  const up = await upstream();
  try {
    const timers = () => activeResources().filter((r) => r === 'Timeout').length;
    for (const [interval, added] of [[0, 0], [50, 1]]) {
      const source = up.source({ interval });
      await source.prepare();
      const before = timers(); // measured synchronously: no other timer can fire in between
      const stop = source.watch(() => {});
      assert.is(timers() - before, added, `interval ${interval}`);
      await stop();
    }
  } finally {
    await up.cleanup();
  }
});

test('credentials in the URL stay out of the clone folder, its config and messages', async () => {
  const up = await upstream();
  try {
    const url = up.url.replace('http://', 'http://user:s3cret@');
    const source = up.source({ url });
    assert.is(source.gitdir, up.source().gitdir, 'a rotated token reuses the same clone');
    await source.prepare();
    assert.is(await source.head(), up.repo.git('rev-parse', 'main'));
    assert.not.match(readFileSync(join(source.gitdir, 'config'), 'utf8'), 's3cret');
    await up.server.stop();
    const e = await sourceError(() => source.fetch());
    assert.is(e.reason, 'FetchFailed');
    assert.not.match(e.message, 's3cret');
  } finally {
    await up.cleanup();
  }
});

test.run();
