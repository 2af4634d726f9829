// Bad bytes and git features we do not follow, committed to a real repository: `validate` names the file and
// position, and a running `serve` refuses the commit and keeps the last good revision. One serve for the file.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)(process.execPath, [BIN, ...args]);
    return { code: 0, stdout, stderr };
  } catch (e: any) {
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

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
  good = repo.commit('fixed');
  await until(async () => (await status()).lastAppliedRevision === good, 'fixed revision applied');
});

test.run();
