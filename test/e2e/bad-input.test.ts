// Bad bytes and git features we do not follow, committed to a real repository: `validate` names the file and
// position, and a running `serve` refuses the commit and keeps the last good revision. One serve for the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { cli } from '../support/cli.ts';


const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;

let repo: TestRepo, serve: ServeProcess, dataDir: string, good: string;
const status = async () => (await serve.get('/status')).body;
/** Commits, waits for serve to refuse it, and returns its status. */
async function refused(message: string) {
  const bad = repo.commit(message);
  const s = await until(async () => { const s = await status(); return s.lastAttemptedRevision === bad && s.sync === 'Failed' && s; }, `${message} refused`);
  assert.is(s.lastAppliedRevision, good);
  assert.is((await serve.get('/api/v1/namespaces/default/configmaps/app')).body.data.v, 'good');
  return s;
}

test.before(async () => {
  repo = makeRepo({ 'k8s/app.yaml': cm('app', 'good') });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-badinput-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--path', 'k8s']);
  good = repo.git('rev-parse', 'HEAD');
  await until(async () => (await status()).lastAppliedRevision === good, 'first revision applied');
});
test.after(async () => {
  await serve?.shutdown();
  repo?.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('invalid UTF-8 in a ConfigMap value: refused with file and position, not applied with U+FFFD', async () => {
  // `  v: "b` then 0xff: line 6, column 8, byte offset 66 of the file.
  writeFileSync(path.join(repo.work, 'k8s/app.yaml'), Buffer.concat([Buffer.from(cm('app', 'b').split('b"')[0] + 'b'), Buffer.from([0xff]), Buffer.from('ad"\n')]));
  const s = await refused('invalid utf-8');
  const err = s.errors.find((e: any) => e.file === 'k8s/app.yaml');
  assert.ok(err, JSON.stringify(s.errors));
  assert.equal([err.line, err.column], [6, 8]);
  assert.match(err.message, /not valid UTF-8.*byte offset 66/);
  for (const args of [['--path', 'k8s'], ['--path', 'k8s', '--worktree']]) {
    const r = await cli('validate', '--repo', repo.dir, ...args);
    assert.is(r.code, 1, r.stderr);
    assert.match(r.stdout, /^k8s\/app\.yaml:6:8: -: -: file is not valid UTF-8: invalid byte sequence at byte offset 66 \(ff 61 64 22\)/m, args.join(' '));
  }
  repo.write('k8s/app.yaml', cm('app', 'good'));
  // In a kustomization.yaml (and so in any file the source reads): refused too, not built as an empty one.
  writeFileSync(path.join(repo.work, 'k8s/kustomization.yaml'), Buffer.concat([Buffer.from('resources:\n  - app.yaml\n'), Buffer.from([0xfe])]));
  const k = await refused('invalid utf-8 in a kustomization');
  // Read by the build step, which stops the sync with the error, or by the loader, which lists it.
  const named = [k.error ?? '', ...k.errors.map((e: any) => `${e.file}:${e.line}:${e.column} ${e.message}`)];
  assert.ok(named.some((m: string) => /k8s\/kustomization\.yaml:3:1 .*not valid UTF-8/.test(m)), named.join('\n'));
  const w = await cli('validate', '--repo', repo.dir, '--path', 'k8s', '--worktree');
  assert.ok(w.code === 1 || w.code === 2, w.stdout + w.stderr); // an error listed (1) or the build stopped (2)
  assert.match(w.stdout + w.stderr, /k8s\/kustomization\.yaml:3:1[: ].*file is not valid UTF-8/);
  repo.remove('k8s/kustomization.yaml');
  good = repo.commit('fixed');
  await until(async () => (await status()).lastAppliedRevision === good, 'fixed revision applied');
});

test('a Git LFS pointer in the manifest folder is named as one, not as a malformed manifest', async () => {
  const oid = 'sha256:4d7a214614ab2935c943f9e0ff69d22eadbb8f32b1258daaa5e2ca24d17e2393';
  repo.write('k8s/big.yaml', `version https://git-lfs.github.com/spec/v1\noid ${oid}\nsize 12345\n`);
  const s = await refused('lfs pointer');
  assert.equal(s.errors.map((e: any) => [e.file, e.line]), [['k8s/big.yaml', 1]]);
  assert.match(s.errors[0].message, /Git LFS pointer \(sha256:4d7a2146.*12\.1 KiB\).*not fetched/);
  assert.not.match(s.errors[0].message, /must be a mapping/);
  repo.remove('k8s/big.yaml');
});

test('a submodule and two names that differ only in case are applied around, each with a warning naming it', async () => {
  // A repository inside the working tree: `git add` records it as a gitlink (mode 160000), as `git submodule add` does.
  const sub = makeRepo({ 'cm.yaml': cm('inside', '1') });
  renameSync(sub.dir, path.join(repo.work, 'k8s/charts'));
  repo.write('k8s/Extra.yaml', cm('upper', '1'));
  repo.write('k8s/extra.yaml', cm('lower', '1'));
  good = repo.commit('submodule and case conflict');
  assert.match(repo.git('ls-tree', 'HEAD', 'k8s/charts'), /^160000 commit /);
  const s = await until(async () => { const s = await status(); return s.lastAppliedRevision === good && s.sync === 'Synced' && s; }, 'applied with warnings');
  const warnings = s.warnings.map((w: any) => `${w.file}: ${w.message}`);
  assert.ok(warnings.some((w: string) => /^k8s\/charts: 'k8s\/charts' is a git submodule .*not fetched/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w: string) => /^k8s\/extra\.yaml: 'k8s\/Extra\.yaml' and 'k8s\/extra\.yaml' differ only in case/.test(w)), warnings.join('\n'));
  assert.is((await serve.get('/api/v1/namespaces/default/configmaps/lower')).status, 200);
  assert.is((await serve.get('/api/v1/namespaces/default/configmaps/inside')).status, 404);
});

/**
 * Commits with git fast-import on top of HEAD (seconds for 100,000 files, where `git add` takes a minute):
 * `M`/`D` lines of its stream; returns the new commit. The working tree is left as it was (checking 100,000 files
 * out took most of the file's time): what reads the commits (serve, `validate` without --worktree) reads them from
 * git, and no test after the one using it writes files.
 */
function fastCommit(message: string, changes: string): string {
  const head = repo.git('rev-parse', 'HEAD');
  const stream = `commit refs/heads/main\ncommitter T <t@example.com> ${Math.floor(Date.now() / 1000)} +0000\ndata ${Buffer.byteLength(message)}\n${message}\nfrom ${head}\n${changes}`;
  execFileSync('git', ['fast-import', '--quiet'], { cwd: repo.dir, input: stream });
  return repo.git('rev-parse', 'HEAD');
}

test('100,000 tiny manifest files: refused from the trees alone, by name of the limit; the last good revision stays', async () => {
  const files: string[] = [];
  for (let i = 0; i < 100_000; i++) {
    const body = cm(`tiny-${i}`, String(i));
    files.push(`M 644 inline k8s/tiny/f${Math.floor(i / 1000)}/cm-${i}.yaml\ndata ${body.length}\n${body}\n`);
  }
  const bad = fastCommit('100,000 tiny files', files.join(''));
  // A revision whose files cannot be read is named by its error and is the last attempted one (as Flux records it).
  const s = await until(async () => { const s = await status(); return s.sync === 'Failed' && s.error?.includes(`commit ${bad}`) && s; }, 'tiny files refused', 60_000);
  assert.is(s.lastAttemptedRevision, bad);
  assert.is(s.lastAppliedRevision, good);
  assert.match(JSON.stringify(s), /more than 50,000 manifest files \(\*\.yaml, \*\.yml, Kustomization\) under 'k8s', the limit of --max-manifest-files/);
  assert.is((await serve.get('/api/v1/namespaces/default/configmaps/app')).body.data.v, 'good');
  assert.is((await serve.get('/api/v1/namespaces/default/configmaps/tiny-0')).status, 404);
  const v = await cli('validate', '--repo', repo.dir, '--path', 'k8s');
  assert.is(v.code, 2, v.stdout + v.stderr);
  assert.match(v.stderr, /more than 50,000 manifest files/);
  // Under a limit it is not over, the same commit loads: the limit is the only refusal.
  const ok = await cli('validate', '--repo', repo.dir, '--path', 'k8s/tiny/f7', '--max-manifest-files', '1000');
  assert.is(ok.code, 0, ok.stdout + ok.stderr);
  assert.match(ok.stderr, /1000 object\(s\) in 1000 file\(s\): 0 error\(s\)/);
  const one = await cli('validate', '--repo', repo.dir, '--path', 'k8s/tiny/f7', '--max-manifest-files', '999');
  assert.is(one.code, 2, one.stdout + one.stderr);
  assert.match(one.stderr, /more than 999 manifest files .* under 'k8s\/tiny\/f7'/);
  good = fastCommit('tiny files removed', 'D k8s/tiny\n');
  await until(async () => (await status()).lastAppliedRevision === good, 'the revision without them applied', 60_000);
});

test.run();
