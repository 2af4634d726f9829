// The source side end to end: a remote repository over real smart HTTP, and a repository that breaks under serve.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, renameSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo } from '../support/git-repo.ts';
import { startGitHttpServer } from '../support/git-http-server.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;

const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  v: "${v}"\n`;

test('remote repository over HTTP: cloned, applied, fetched every --interval', async () => {
  const repo = makeRepo({ 'cm.yaml': cm('remote', '1') }, { bare: true });
  const http = await startGitHttpServer(path.dirname(repo.dir));
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-remote-'));
  const serve = await startServe(['--repo', `${http.url}/${path.basename(repo.dir)}`, '--data-dir', dataDir, '--interval', '200ms']);
  try {
    const first = repo.git('rev-parse', 'main');
    await until(async () => (await serve.get('/status')).body.lastAppliedRevision === first, 'first remote revision applied');
    assert.is((await serve.get('/api/v1/namespaces/default/configmaps/remote')).body.data.v, '1');
    repo.write('cm.yaml', cm('remote', '2'));
    const second = repo.commit('bump');
    await until(async () => (await serve.get('/status')).body.lastAppliedRevision === second, 'pushed revision fetched and applied');
    assert.is((await serve.get('/api/v1/namespaces/default/configmaps/remote')).body.data.v, '2');
    // The server goes away: the error shows, the applied state stays.
    await http.stop();
    const s = await until(async () => { const s = (await serve.get('/status')).body; return s.sync === 'Failed' && s; }, 'fetch failure in status');
    assert.match(s.error, /fetch|connect|ECONNREFUSED/i);
    assert.is(s.lastAppliedRevision, second);
    assert.is((await serve.get('/api/v1/namespaces/default/configmaps/remote')).body.data.v, '2');
  } finally {
    await serve.shutdown();
    await http.stop().catch(() => {});
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a port in use fails serve before a remote repository is cloned (a clone cut off would leave its folder)', async () => {
  const repo = makeRepo({ 'cm.yaml': cm('remote', '1') }, { bare: true });
  const http = await startGitHttpServer(path.dirname(repo.dir));
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const port = (taken.address() as { port: number }).port;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-remote-port-'));
  try {
    const exit = await new Promise<{ code: number | null; out: string }>((resolve) => {
      const child = execFile(process.execPath, [BIN, 'serve', '--repo', `${http.url}/${path.basename(repo.dir)}`, '--data-dir', dataDir, '--port', String(port), '--runtime', 'process'],
        { timeout: 60_000 }, (err, stdout, stderr) => resolve({ code: child.exitCode ?? (err as { code?: number })?.code ?? null, out: `${stdout}${stderr}` }));
    });
    assert.ok(exit.code !== 0, `serve exited with ${exit.code}: ${exit.out}`);
    assert.match(exit.out, new RegExp(`${port}|in use`), 'it says the port is taken');
    assert.not.ok(existsSync(path.join(dataDir, 'source')), 'nothing was cloned');
  } finally {
    taken.close();
    await http.stop();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a repository that disappears or loses its branch leaves the last applied state running', async () => {
  const repo = makeRepo({ 'cm.yaml': cm('local', '1') });
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-gone-'));
  const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--retry-base', '100ms']);
  try {
    const head = repo.git('rev-parse', 'HEAD');
    await until(async () => (await serve.get('/status')).body.lastAppliedRevision === head, 'applied');
    const moved = repo.dir + '-moved';
    renameSync(repo.dir, moved);
    let s = await until(async () => { const s = (await serve.get('/status')).body; return s.sync === 'Failed' && s; }, 'missing repository reported', 20_000);
    assert.match(s.error, new RegExp(repo.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.is(s.lastAppliedRevision, head);
    assert.is((await serve.get('/api/v1/namespaces/default/configmaps/local')).status, 200);
    // Back again, but the branch is gone.
    renameSync(moved, repo.dir);
    repo.git('branch', '-m', 'main', 'renamed');
    s = await until(async () => { const s = (await serve.get('/status')).body; return s.sync === 'Failed' && /main/.test(s.error) && /branch/i.test(s.error) && s; }, 'missing branch reported', 20_000);
    assert.is(s.lastAppliedRevision, head);
    // Restored: it recovers on its own.
    repo.git('branch', '-m', 'renamed', 'main');
    await until(async () => (await serve.get('/status')).body.sync === 'Synced', 'recovered', 20_000);
  } finally {
    await serve.shutdown();
    repo.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test.run();
