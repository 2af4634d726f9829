// `convergit rollback` as a user meets it: what it prints, its exit codes, on real repositories.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { rollback, type RollbackOptions } from '../../src/cli/rollback.ts';

async function run(opts: Partial<RollbackOptions> & { repo: string; to: string }): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await rollback({ branch: 'main', ...opts }, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** Three deploys on main after the first: replicas 1 → 2 → 3 → 4. */
function deploys(): { repo: TestRepo; shas: string[] } {
  const repo = makeRepo({ 'web.yaml': 'replicas: 1\n' }, { message: 'deploy 1' });
  const shas = [repo.git('rev-parse', 'HEAD')];
  for (const n of [2, 3, 4]) {
    repo.write('web.yaml', `replicas: ${n}\n`);
    shas.push(repo.commit(`deploy ${n}`));
  }
  return { repo, shas };
}

test('rolls back to HEAD~2: one line per revert written, then what happens next; exit 0', async () => {
  const { repo, shas } = deploys();
  try {
    const r = await run({ repo: repo.dir, to: 'HEAD~2' });
    assert.is(r.code, 0, r.err.join('\n'));
    assert.equal(r.err, []);
    const [first, second] = repo.git('log', '--format=%h', '-2').split('\n').reverse();
    assert.equal(r.out, [
      `${first} Revert "deploy 4"`,
      `${second} Revert "deploy 3"`,
      `main moved ${shas[3].slice(0, 7)} → ${second} (working tree updated): it now has the files of ${shas[1].slice(0, 7)} "deploy 2".`,
      'convergit serve applies it as soon as it sees the commit; for a remote, push main.',
    ]);
    assert.is(repo.git('show', 'HEAD:web.yaml'), 'replicas: 2');
    assert.is(repo.git('status', '--porcelain'), '');
  } finally {
    repo.cleanup();
  }
});

test('an abbreviated sha is accepted, and the trailer names the target by its short sha', async () => {
  const { repo, shas } = deploys();
  try {
    const r = await run({ repo: repo.dir, to: shas[0].slice(0, 9) });
    assert.is(r.code, 0, r.err.join('\n'));
    assert.is(r.out.length, 5);
    assert.is(repo.git('diff', shas[0], 'HEAD'), '');
    assert.match(repo.git('log', '-1', '--format=%B'), new RegExp(`\\n\\nRolled-back-with: convergit rollback --to ${shas[0].slice(0, 7)}$`));
  } finally {
    repo.cleanup();
  }
});

test('--dry-run prints the reverts it would write and writes nothing', async () => {
  const { repo, shas } = deploys();
  try {
    const r = await run({ repo: repo.dir, to: 'main~1', dryRun: true });
    assert.is(r.code, 0);
    assert.equal(r.out, [
      'Would write 1 revert commit(s) on main, newest first:',
      `  Revert "deploy 4" (reverts ${shas[3].slice(0, 7)})`,
      `main would then have the files of ${shas[2].slice(0, 7)} "deploy 3". Nothing was written (--dry-run).`,
    ]);
    assert.is(repo.git('rev-parse', 'main'), shas[3]);
  } finally {
    repo.cleanup();
  }
});

test('the tip itself: nothing to roll back, exit 0', async () => {
  const { repo, shas } = deploys();
  try {
    const r = await run({ repo: repo.dir, to: shas[3] });
    assert.is(r.code, 0);
    assert.equal(r.out, [`main is already at ${shas[3].slice(0, 7)} "deploy 4": nothing to roll back.`]);
  } finally {
    repo.cleanup();
  }
});

test('refusals exit 1 with the reason on stderr and leave the branch alone', async () => {
  const { repo, shas } = deploys();
  try {
    const refused = async (opts: Partial<RollbackOptions> & { to: string }, reason: RegExp) => {
      const r = await run({ repo: repo.dir, ...opts });
      assert.is(r.code, 1, `${opts.to}: ${r.out.join('\n')}`);
      assert.equal(r.out, []);
      assert.is(r.err.length, 1);
      assert.match(r.err[0], reason);
      assert.is(repo.git('rev-parse', 'main'), shas[3]);
    };
    await refused({ to: 'nope' }, /^convergit rollback: ref 'nope' not found in /);
    await refused({ to: 'HEAD~9' }, /^convergit rollback: ref 'HEAD~9' not found .*has no parent/);
    await refused({ to: 'HEAD~1', branch: 'release' }, /^convergit rollback: branch 'release' not found in /);
    repo.git('checkout', '--quiet', '-b', 'side', shas[1]);
    repo.write('side.yaml', 's: 1\n');
    const side = repo.commit('side work');
    repo.git('checkout', '--quiet', 'main');
    await refused({ to: side }, new RegExp(`^convergit rollback: ${side.slice(0, 7)} is not on main's first-parent history`));
    repo.write('web.yaml', 'replicas: 9\n');
    await refused({ to: 'HEAD~1' }, /^convergit rollback: .* has local changes to web\.yaml; commit or stash them first/);
  } finally {
    repo.cleanup();
  }
});

test('--to HEAD~n with another branch checked out is refused: HEAD~1 there is not one deploy back on main', async () => {
  const { repo, shas } = deploys();
  try {
    repo.git('checkout', '--quiet', '-b', 'feature', shas[1]);
    repo.write('web.yaml', 'replicas: 9\n');
    repo.commit('feature work'); // feature~1 is main~2: on main's history, so nothing else would stop it
    const r = await run({ repo: repo.dir, to: 'HEAD~1' });
    assert.is(r.code, 1, r.out.join('\n'));
    assert.equal(r.err, ['convergit rollback: --to HEAD~1: HEAD is on branch feature, not main; name the commit on main, e.g. --to main~1']);
    assert.is(repo.git('rev-parse', 'main'), shas[3]);
    repo.git('checkout', '--quiet', '--detach', shas[2]);
    assert.match((await run({ repo: repo.dir, to: 'HEAD' })).err[0], `HEAD is detached at ${shas[2].slice(0, 7)}, not main`);
    // Named on main, it is what it says.
    assert.is((await run({ repo: repo.dir, to: 'main~1' })).code, 0);
    assert.is(repo.git('show', 'main:web.yaml'), 'replicas: 3');
  } finally {
    repo.cleanup();
  }
});

test('a file:// URL is the local repository; an http(s) URL is refused with what to do instead', async () => {
  const { repo, shas } = deploys();
  try {
    const r = await run({ repo: `file://${repo.dir}`, to: 'HEAD~1' });
    assert.is(r.code, 0, r.err.join('\n'));
    assert.is(repo.git('show', 'HEAD:web.yaml'), 'replicas: 3');
    const remote = await run({ repo: 'https://git.example.com/team/deploy.git', to: shas[0] });
    assert.is(remote.code, 1);
    assert.equal(remote.err, ['convergit rollback: https://git.example.com/team/deploy.git is a remote repository: roll back in a clone of it and push main']);
  } finally {
    repo.cleanup();
  }
});

test.run();
