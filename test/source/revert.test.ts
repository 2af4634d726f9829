// convergit rollback's engine: revert commits written with isomorphic-git, checked against the real git CLI.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, runGit, type RepoOptions, type TestRepo } from '../support/git-repo.ts';
import { sourceFor } from './helpers.ts';
import { revertTo } from '../../src/source/revert.ts';
import { RollbackError } from '../../src/source/rollback-error.ts';

/** An environment with no global git config and no identity variables: only the repository's config counts. */
const ENV = { PATH: process.env.PATH, GIT_CONFIG_GLOBAL: '/dev/null' };

interface History {
  repo: TestRepo;
  /** initial → scale → (feature: api) → start → merge → config, on main's first-parent chain: initial, scale, start, merge, config. */
  sha: { initial: string; scale: string; api: string; start: string; merge: string; config: string };
}

/**
 * initial: app/web.yaml, config.yaml, bin/start.sh (executable); "scale web to 3"; a feature branch adds
 * app/api/api.yaml; main changes start.sh and adds app/worker/worker.yaml; the feature is merged (--no-ff);
 * "remove config" deletes config.yaml and drops start.sh's executable bit.
 */
function history(opts: RepoOptions = {}): History {
  const repo = makeRepo({}, opts);
  const sh = (...args: string[]) => runGit(repo.work, ...args);
  const publish = () => opts.bare && sh('push', '--quiet', '--force', 'origin', 'HEAD:refs/heads/main');
  repo.write('app/web.yaml', 'replicas: 1\n');
  repo.write('config.yaml', 'color: blue\n');
  repo.write('bin/start.sh', '#!/bin/sh\necho v1\n');
  chmodSync(join(repo.work, 'bin/start.sh'), 0o755);
  const initial = repo.commit('initial');
  repo.write('app/web.yaml', 'replicas: 3\n');
  const scale = repo.commit('scale web to 3');
  sh('checkout', '--quiet', '-b', 'feature');
  repo.write('app/api/api.yaml', 'api: 1\n');
  sh('add', '-A');
  sh('commit', '--quiet', '-m', 'add api');
  const api = sh('rev-parse', 'HEAD');
  sh('checkout', '--quiet', 'main');
  repo.write('bin/start.sh', '#!/bin/sh\necho v2\n');
  repo.write('app/worker/worker.yaml', 'worker: 1\n');
  const start = repo.commit('change start, add worker');
  sh('merge', '--quiet', '--no-ff', '--no-edit', 'feature');
  publish();
  const merge = sh('rev-parse', 'HEAD');
  repo.remove('config.yaml');
  chmodSync(join(repo.work, 'bin/start.sh'), 0o644);
  const config = repo.commit('remove config');
  return { repo, sha: { initial, scale, api, start, merge, config } };
}

/** The ref's commit subjects, newest first. */
const subjects = (repo: TestRepo, ref = 'main', n = 3) => repo.git('log', '--format=%s', `-${n}`, ref).split('\n');

async function refusal(fn: () => Promise<unknown>): Promise<RollbackError> {
  const e = await fn().then(() => undefined, (err) => err);
  if (!(e instanceof RollbackError)) throw new Error(`expected a RollbackError, got ${e}`);
  return e;
}

test('rolls back newest first to the target\'s tree; the working tree and index follow, git status is clean', async () => {
  const { repo, sha } = history();
  try {
    const result = await sourceFor(repo.dir).rollback(sha.scale, { env: ENV });
    assert.is(result.updated, 'worktree');
    assert.is(result.from, sha.config);
    assert.is(result.to, repo.git('rev-parse', 'main'));
    assert.equal(result.reverts.map((r) => r.reverts), [sha.config, sha.merge, sha.start]);
    assert.equal(subjects(repo, 'main', 4), [
      'Revert "change start, add worker"',
      'Revert "Merge branch \'feature\'"',
      'Revert "remove config"',
      'remove config',
    ]);
    // Each revert's parent is the previous one, the first's is the old tip.
    assert.is(repo.git('rev-parse', 'main~3'), sha.config);
    assert.is(repo.git('diff', sha.scale, 'HEAD'), '');
    assert.is(repo.git('status', '--porcelain'), '');
    // The files: restored, removed (with the folders they leave empty), content and executable bit back.
    assert.is(readFileSync(join(repo.dir, 'config.yaml'), 'utf8'), 'color: blue\n');
    assert.is(readFileSync(join(repo.dir, 'bin/start.sh'), 'utf8'), '#!/bin/sh\necho v1\n');
    assert.ok(statSync(join(repo.dir, 'bin/start.sh')).mode & 0o100, 'executable again');
    assert.match(repo.git('ls-files', '-s', 'bin/start.sh'), /^100755 /);
    assert.not.ok(existsSync(join(repo.dir, 'app/api')), 'the merged feature folder is gone');
    assert.not.ok(existsSync(join(repo.dir, 'app/worker')), 'the worker folder is gone');
    assert.is(readFileSync(join(repo.dir, 'app/web.yaml'), 'utf8'), 'replicas: 3\n');
    // The reflog says what moved the branch, so `git reset --hard main@{1}` undoes it.
    assert.is(repo.git('rev-parse', 'main@{1}'), sha.config);
    assert.match(repo.git('reflog', '-1', '--format=%gs', 'main'), /^rollback: revert 3 commit\(s\) back to [0-9a-f]{7}$/);
    assert.match(repo.git('reflog', '-1', '--format=%gs', 'HEAD'), /^rollback: /);
    repo.git('fsck', '--strict', '--no-dangling');
  } finally {
    repo.cleanup();
  }
});

test('messages and trees are those of git revert --no-edit (-m 1 for the merge), plus a Rolled-back-with trailer', async () => {
  const { repo, sha } = history();
  const copy = mkdtempSync(join(tmpdir(), 'convergit-revert-copy-'));
  try {
    runGit(copy, 'clone', '--quiet', repo.dir, 'c');
    const dir = join(copy, 'c');
    runGit(dir, 'config', 'user.name', 'Test Author');
    runGit(dir, 'config', 'user.email', 'test@example.com');
    for (const c of [sha.config, sha.merge, sha.start]) runGit(dir, 'revert', '--no-edit', ...(c === sha.merge ? ['-m', '1'] : []), c);

    await sourceFor(repo.dir).rollback(sha.scale.slice(0, 7), { env: ENV });
    for (const n of [0, 1, 2]) {
      const ref = `HEAD~${n}`;
      assert.is(repo.git('log', '-1', '--format=%B', ref), `${runGit(dir, 'log', '-1', '--format=%B', ref)}\n\nRolled-back-with: convergit rollback --to ${sha.scale.slice(0, 7)}`);
      assert.is(repo.git('rev-parse', `${ref}^{tree}`), runGit(dir, 'rev-parse', `${ref}^{tree}`), `tree of ${ref}`);
    }
    assert.match(repo.git('log', '-1', '--format=%B', 'HEAD~1'), /^Revert "Merge branch 'feature'"\n\nThis reverts commit [0-9a-f]{40}, reversing\nchanges made to [0-9a-f]{40}\.\n/);
    // Author and committer from the repository's config, as git revert writes them.
    assert.is(repo.git('log', '-1', '--format=%an <%ae>|%cn <%ce>'), 'Test Author <test@example.com>|Test Author <test@example.com>');
  } finally {
    repo.cleanup();
    rmSync(copy, { recursive: true, force: true });
  }
});

test('a bare repository: only the branch moves', async () => {
  const { repo, sha } = history({ bare: true });
  try {
    const result = await sourceFor(repo.dir).rollback('main~3', { env: ENV });
    assert.is(result.updated, 'ref');
    assert.is(result.reverts.length, 3);
    assert.is(repo.git('rev-parse', 'main'), result.to);
    assert.is(repo.git('diff', sha.scale, 'main'), '');
    assert.equal(subjects(repo), ['Revert "change start, add worker"', 'Revert "Merge branch \'feature\'"', 'Revert "remove config"']);
    repo.git('fsck', '--strict', '--no-dangling');
  } finally {
    repo.cleanup();
  }
});

test('another branch checked out: main moves, the working tree, index and HEAD stay as they are', async () => {
  const { repo, sha } = history();
  try {
    repo.git('checkout', '--quiet', 'feature');
    // Local changes on the other branch do not matter: the rollback does not touch them.
    repo.write('app/api/api.yaml', 'api: local edit\n');
    const result = await sourceFor(repo.dir).rollback(sha.scale, { env: ENV });
    assert.is(result.updated, 'ref');
    assert.is(repo.git('symbolic-ref', 'HEAD'), 'refs/heads/feature');
    assert.is(repo.git('rev-parse', 'HEAD'), sha.api);
    assert.is(repo.git('status', '--porcelain'), 'M app/api/api.yaml');
    assert.is(readFileSync(join(repo.dir, 'app/api/api.yaml'), 'utf8'), 'api: local edit\n');
    assert.is(repo.git('diff', sha.scale, 'main'), '');
  } finally {
    repo.cleanup();
  }
});

test('a working tree or index with changes to tracked files is refused, naming them; nothing is written', async () => {
  const { repo, sha } = history();
  try {
    repo.write('app/web.yaml', 'replicas: 7\n');
    // A file touched but unchanged: a stat refresh would rewrite the index here, without git's racy-entry smudging,
    // and git would then take a same-second, same-size edit like the one above for clean.
    utimesSync(join(repo.dir, 'app/worker/worker.yaml'), new Date(), new Date(Date.now() + 5000));
    const index = readFileSync(join(repo.dir, '.git/index'));
    let objects = repo.git('count-objects');
    let e = await refusal(() => sourceFor(repo.dir).rollback(sha.scale, { env: ENV }));
    assert.is(e.reason, 'LocalChanges');
    assert.match(e.message, /local changes to app\/web\.yaml; commit or stash them/);
    assert.ok(readFileSync(join(repo.dir, '.git/index')).equals(index), 'the index is not rewritten');
    repo.git('checkout', '--quiet', '--', 'app/web.yaml');
    // Staged only: a new file added to the index.
    repo.write('new.yaml', 'n: 1\n');
    repo.git('add', 'new.yaml');
    objects = repo.git('count-objects');
    e = await refusal(() => sourceFor(repo.dir).rollback(sha.scale, { env: ENV }));
    assert.match(e.message, /local changes to new\.yaml/, e.message);
    assert.is(repo.git('rev-parse', 'main'), sha.config);
    assert.is(repo.git('count-objects'), objects, 'no objects written');
    // Untracked, it is no obstacle, and it stays.
    repo.git('rm', '--quiet', '--cached', 'new.yaml');
    await sourceFor(repo.dir).rollback(sha.scale, { env: ENV });
    assert.is(repo.git('diff', sha.scale, 'HEAD'), '');
    assert.is(repo.git('status', '--porcelain'), '?? new.yaml');
  } finally {
    repo.cleanup();
  }
});

test('more than five changed files are named five and counted', async () => {
  const { repo, sha } = history();
  try {
    for (const f of ['a', 'b', 'c', 'd', 'e', 'f', 'g']) repo.write(`${f}.yaml`, 'x: 1\n');
    repo.git('add', '-A');
    const e = await refusal(() => sourceFor(repo.dir).rollback(sha.scale, { env: ENV }));
    assert.match(e.message, /local changes to a\.yaml, b\.yaml, c\.yaml, d\.yaml, e\.yaml and 2 more;/);
  } finally {
    repo.cleanup();
  }
});

test('an untracked file where the rollback would restore one is refused before the branch moves', async () => {
  const { repo, sha } = history();
  try {
    repo.write('config.yaml', 'color: mine\n'); // config.yaml is untracked now; the rollback brings it back
    const e = await refusal(() => sourceFor(repo.dir).rollback(sha.scale, { env: ENV }));
    assert.is(e.reason, 'UntrackedInTheWay');
    assert.match(e.message, /would be overwritten by the rollback: config\.yaml/);
    assert.is(repo.git('rev-parse', 'main'), sha.config);
    assert.is(readFileSync(join(repo.dir, 'config.yaml'), 'utf8'), 'color: mine\n');
  } finally {
    repo.cleanup();
  }
});

test('a target off the first-parent chain is refused, naming the merge that brought it in', async () => {
  const { repo, sha } = history();
  try {
    const e = await refusal(() => sourceFor(repo.dir).rollback(sha.api, { env: ENV }));
    assert.is(e.reason, 'NotOnFirstParent');
    const [api, merge] = [sha.api.slice(0, 7), sha.merge.slice(0, 7)];
    assert.is(e.message, `${api} is not on main's first-parent history: it came in with merge ${merge} "Merge branch 'feature'"; --to ${merge}^ rolls back to before that merge`);
    // A commit main never had at all.
    repo.git('checkout', '--quiet', '--orphan', 'other');
    repo.write('o.yaml', 'o: 1\n');
    const other = repo.commit('unrelated');
    repo.git('checkout', '--quiet', '-f', 'main');
    const e2 = await refusal(() => sourceFor(repo.dir).rollback(other, { env: ENV }));
    assert.is(e2.message, `${other.slice(0, 7)} is not on main's first-parent history: it is not in its history at all`);
    assert.is(repo.git('rev-parse', 'main'), sha.config);
  } finally {
    repo.cleanup();
  }
});

test('the target is the tip: nothing to do, nothing written', async () => {
  const { repo, sha } = history();
  try {
    const result = await sourceFor(repo.dir).rollback('main', { env: ENV });
    assert.equal(result, { branch: 'main', from: sha.config, to: sha.config, target: sha.config, targetSubject: 'remove config', reverts: [], updated: 'none' });
    assert.is(repo.git('rev-parse', 'main'), sha.config);
  } finally {
    repo.cleanup();
  }
});

test('a dry run lists the reverts and writes nothing', async () => {
  const { repo, sha } = history();
  try {
    const objects = repo.git('count-objects');
    const result = await sourceFor(repo.dir).rollback('HEAD~2', { dryRun: true, env: ENV });
    assert.is(result.updated, 'none');
    assert.is(result.to, sha.config);
    assert.equal(result.reverts.map((r) => [r.sha, r.subject]), [[undefined, 'Revert "remove config"'], [undefined, 'Revert "Merge branch \'feature\'"']]);
    assert.is(repo.git('rev-parse', 'main'), sha.config);
    assert.is(repo.git('count-objects'), objects);
    assert.is(repo.git('status', '--porcelain'), '');
  } finally {
    repo.cleanup();
  }
});

test('the branch moved since it was read: refused, the other writer\'s commit kept', async () => {
  const { repo, sha } = history({ bare: true });
  try {
    // What another pusher does between the rollback's first read of main and its write.
    repo.write('late.yaml', 'late: 1\n');
    const late = repo.commit('pushed meanwhile');
    const e = await refusal(() => revertTo({ gitdir: repo.dir, branch: 'main', tip: sha.config, target: sha.scale, env: ENV }));
    assert.is(e.reason, 'BranchMoved');
    assert.match(e.message, /^main moved while rolling back \(it is now at [0-9a-f]{7}\); run again$/);
    assert.is(repo.git('rev-parse', 'main'), late);
    assert.not.ok(existsSync(join(repo.dir, 'refs/heads/main.lock')));
  } finally {
    repo.cleanup();
  }
});

test('a branch locked by another git process is refused and the lock is left to its owner', async () => {
  const { repo, sha } = history({ bare: true });
  try {
    writeFileSync(join(repo.dir, 'refs/heads/main.lock'), '');
    const e = await refusal(() => sourceFor(repo.dir).rollback(sha.scale, { env: ENV }));
    assert.is(e.reason, 'RefLocked');
    assert.ok(existsSync(join(repo.dir, 'refs/heads/main.lock')));
    assert.is(repo.git('rev-parse', 'main'), sha.config);
  } finally {
    repo.cleanup();
  }
});

test('author and committer: GIT_AUTHOR_*/GIT_COMMITTER_* first, then repository config, then global config, else convergit', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  const home = mkdtempSync(join(tmpdir(), 'convergit-home-'));
  try {
    const base = repo.git('rev-parse', 'HEAD');
    const step = async (env: NodeJS.ProcessEnv) => {
      repo.write('a.yaml', `a: ${Math.random()}\n`);
      // An identity of its own: the repository's config is taken away below.
      repo.git('-c', 'user.name=Committer', '-c', 'user.email=c@example.com', 'commit', '--quiet', '-am', 'bump');
      await sourceFor(repo.dir).rollback('HEAD~1', { env: { ...ENV, ...env } });
      return repo.git('log', '-1', '--format=%an <%ae>|%cn <%ce>');
    };
    assert.is(await step({ GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.com' }), 'Ada <ada@example.com>|Test Author <test@example.com>');
    assert.is(await step({ GIT_COMMITTER_NAME: 'Bot' }), 'Test Author <test@example.com>|Bot <test@example.com>');
    repo.git('config', '--unset', 'user.name');
    repo.git('config', '--unset', 'user.email');
    const global = join(home, 'gitconfig');
    writeFileSync(global, '[core]\n\tname = not this\n[remote "origin"]\n\tname = nor this\n[User]\n\tName = "Grace  Hopper" # the admiral\n\temail = grace@example.com ; work\n');
    assert.is(await step({ GIT_CONFIG_GLOBAL: global }), 'Grace  Hopper <grace@example.com>|Grace  Hopper <grace@example.com>');
    // HOME's ~/.gitconfig when GIT_CONFIG_GLOBAL is not set.
    writeFileSync(join(home, '.gitconfig'), '[user]\n\tname = Home User\n\temail = home@example.com\n');
    assert.is(await step({ GIT_CONFIG_GLOBAL: undefined, HOME: home, XDG_CONFIG_HOME: join(home, 'xdg') }), 'Home User <home@example.com>|Home User <home@example.com>');
    assert.is(await step({}), 'convergit <convergit@localhost>|convergit <convergit@localhost>');
    assert.is(repo.git('diff', base, 'HEAD'), '');
  } finally {
    repo.cleanup();
    rmSync(home, { recursive: true, force: true });
  }
});

test('rolling back past a revert reapplies it: "Reapply", as git revert names it since 2.43', async () => {
  const repo = makeRepo({ 'a.yaml': 'a: 1\n' });
  try {
    const base = repo.git('rev-parse', 'HEAD');
    repo.write('a.yaml', 'a: 2\n');
    const change = repo.commit('set a to 2');
    repo.git('revert', '--no-edit', change);
    const revert = repo.git('rev-parse', 'HEAD');
    await sourceFor(repo.dir).rollback(change, { env: ENV });
    assert.is(repo.git('log', '-1', '--format=%B'), `Reapply "set a to 2"\n\nThis reverts commit ${revert}.\n\nRolled-back-with: convergit rollback --to ${change.slice(0, 7)}`);
    assert.is(readFileSync(join(repo.dir, 'a.yaml'), 'utf8'), 'a: 2\n');
    assert.is(repo.git('status', '--porcelain'), '');
    assert.ok(base);
  } finally {
    repo.cleanup();
  }
});

test.run();
