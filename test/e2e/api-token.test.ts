// A real `serve --host 0.0.0.0`: TLS with its own certificate, the bearer token required (401 without), and the
// kubeconfig `convergit kubeconfig` prints lets the real kubectl in, Secret values included.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { until } from '../support/wait.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
const run = promisify(execFile);
const secret = 'apiVersion: v1\nkind: Secret\nmetadata: { name: db }\nstringData: { password: s3cret }\n';
let repo: TestRepo, dataDir: string, child: ChildProcess | undefined;

test.before(() => {
  repo = makeRepo({ 'secret.yaml': secret });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-token-e2e-'));
});

test.after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.on('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('serve beyond loopback: HTTPS, 401 without the token, kubectl through convergit kubeconfig reads the Secret', async () => {
  child = spawn(process.execPath, [BIN, 'serve', '--repo', repo.dir, '--data-dir', dataDir, '--host', '0.0.0.0', '--port', '0', '--nodes', '0', '--runtime', 'process'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const port = await until(() => {
    if (child!.exitCode !== null) throw new Error(`serve exited:\n${out}`);
    // Two lines, two writes: the pipe may hand them over apart.
    return /beyond loopback: over TLS/.test(out) ? out.match(/serving https:\/\/0\.0\.0\.0:(\d+)/)?.[1] : undefined;
  }, 'serve to listen and say it is over TLS', 60_000);
  const status = await new Promise<number>((resolve, reject) => {
    request(`https://127.0.0.1:${port}/api/v1/secrets`, { rejectUnauthorized: false }, (res) => { res.resume(); resolve(res.statusCode!); }).on('error', reject).end();
  });
  assert.is(status, 401);
  const config = await run(process.execPath, [BIN, 'kubeconfig', '--data-dir', dataDir]);
  assert.match(config.stdout, /server: https:\/\/127\.0\.0\.1:/);
  assert.match(config.stdout, /certificate-authority-data: /);
  assert.match(config.stdout, /token: /);
  const file = path.join(dataDir, 'kubeconfig');
  writeFileSync(file, config.stdout);
  const password = await until(async () => {
    const r = await run('kubectl', ['--kubeconfig', file, 'get', 'secret', 'db', '-o', 'jsonpath={.data.password}']).catch(() => undefined);
    return r?.stdout || undefined; // until the first sync applied it
  }, 'the Secret through kubectl', 30_000);
  assert.is(Buffer.from(password, 'base64').toString(), 's3cret');
});

test.run();
