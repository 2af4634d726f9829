// `convergit plan --server` and `history` against a real serve bound beyond loopback (HTTPS with its self-signed
// certificate, bearer token required): credentials from --token, $CONVERGIT_TOKEN or a kubeconfig (--kubeconfig,
// $KUBECONFIG, the file `convergit kubeconfig` prints), and clear errors on 401 and on a certificate that does not
// match. In a private network namespace (only lo) as root, serve listens on an address added to lo (192.0.2.10, TEST-NET-1);
// elsewhere on 0.0.0.0, reached at 127.0.0.1.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { until } from '../support/wait.ts';
import { connectServer } from '../../src/cli/server-connection.ts';
import { apiCertificate } from '../../src/cli/api-certificate.ts';

const BIN = new URL('../../bin/convergit.js', import.meta.url).pathname;
const run = promisify(execFile);
const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: { name: settings }\ndata: { colour: ${v} }\n`;
/** As root in a namespace of our own (`unshare -n`: only lo), an address may be added and removed without touching the host's. */
const privateNetns = process.getuid?.() === 0 && Object.keys(networkInterfaces()).every((n) => n === 'lo');
const HOST = privateNetns ? '192.0.2.10' : '0.0.0.0';
let repo: TestRepo, dataDir: string, child: ChildProcess | undefined, url: string, kubeconfig: string, sha: string;
/** Runs convergit; resolves with its exit code and output whatever the code. */
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => run(process.execPath, [BIN, ...args], { env: { ...process.env, KUBECONFIG: path.join(dataDir, 'none'), ...env } })
  .then((r) => ({ code: 0, out: r.stdout + r.stderr }), (e) => ({ code: e.code as number, out: `${e.stdout}${e.stderr}` }));
const error = (p: Promise<unknown>) => p.then(() => 'no error', (e: Error) => e.message);

test.before(async () => {
  if (privateNetns) execFileSync('ip', ['addr', 'add', `${HOST}/32`, 'dev', 'lo']);
  else console.log(`server-credentials: not a private network namespace as root: serve listens on ${HOST}`);
  repo = makeRepo({ 'settings.yaml': cm('red') });
  sha = repo.git('rev-parse', 'HEAD');
  repo.git('checkout', '-q', '-b', 'feature');
  repo.write('settings.yaml', cm('blue'));
  repo.commit('blue');
  repo.git('checkout', '-q', 'main');
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-credentials-'));
  child = spawn(process.execPath, [BIN, 'serve', '--repo', repo.dir, '--data-dir', dataDir, '--host', HOST, '--port', '0', '--nodes', '0', '--runtime', 'process'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  url = await until(() => {
    if (child!.exitCode !== null) throw new Error(`serve exited:\n${out}`);
    return out.match(/serving (https:\/\/[\d.]+:\d+)/)?.[1];
  }, 'serve to listen', 60_000);
  if (!privateNetns) url = url.replace('0.0.0.0', '127.0.0.1');
  kubeconfig = path.join(dataDir, 'kubeconfig');
  writeFileSync(kubeconfig, (await run(process.execPath, [BIN, 'kubeconfig', '--data-dir', dataDir])).stdout);
});

test.after(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((r) => child!.on('exit', r));
    child.kill('SIGTERM');
    await exited;
  }
  if (privateNetns) execFileSync('ip', ['addr', 'del', `${HOST}/32`, 'dev', 'lo']);
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('the kubeconfig convergit kubeconfig prints: history and plan read the serve (flag, $KUBECONFIG, --server matched)', async () => {
  assert.match(readFileSync(kubeconfig, 'utf8'), new RegExp(`server: ${url.replace(/\./g, '\\.')}`));
  const applied = await until(async () => {
    const r = await cli(['history', '--kubeconfig', kubeconfig]);
    assert.is(r.code, 0, r.out);
    return r.out.includes(sha.slice(0, 7)) ? r.out : undefined;
  }, 'the first revision in the history', 30_000);
  assert.match(applied, /Applied/);
  // $KUBECONFIG alone: its current context is convergit's, so history asks it rather than 127.0.0.1:7480.
  const fromEnv = await cli(['history', '--output', 'json'], { KUBECONFIG: kubeconfig });
  assert.is(fromEnv.code, 0, fromEnv.out);
  assert.is(JSON.parse(fromEnv.out)[0].sha, sha);
  const plan = await cli(['plan', '--repo', repo.dir, '--ref', 'feature', '--kubeconfig', kubeconfig]);
  assert.is(plan.code, 0, plan.out);
  assert.match(plan.out, /compared with the live state of https:.*\n[\s\S]*update ConfigMap default\/settings/);
  assert.match(plan.out, /-\s+colour: red[\s\S]*\+\s+colour: blue/);
  // --server given: the token and CA of the kubeconfig's entry for that server.
  const matched = await cli(['plan', '--repo', repo.dir, '--ref', 'feature', '--server', url], { KUBECONFIG: kubeconfig });
  assert.is(matched.code, 0, matched.out);
  assert.match(matched.out, /\+\s+colour: blue/);
});

test('--token and $CONVERGIT_TOKEN with --certificate-authority; 401 without a token and with a wrong one', async () => {
  const ca = path.join(dataDir, 'apiserver.crt');
  const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
  const env = { KUBECONFIG: path.join(dataDir, 'none') };
  const status = (flags: object, e: NodeJS.ProcessEnv = env) => connectServer({ server: url, ...flags }, () => undefined, e)!.getJson('/status');
  assert.is((await status({ certificateAuthority: ca, token })).lastAppliedRevision, sha);
  assert.is((await status({ certificateAuthority: ca }, { ...env, CONVERGIT_TOKEN: token })).lastAppliedRevision, sha);
  assert.match(await error(status({ certificateAuthority: ca })), /401 Unauthorized: this serve requires a bearer token: give --token, \$CONVERGIT_TOKEN, or --kubeconfig/);
  assert.match(await error(status({ certificateAuthority: ca, token: 'not-the-token-0123456789' })), /401 Unauthorized: the server refused the token from --token/);
  assert.match(await error(status({ certificateAuthority: ca }, { ...env, CONVERGIT_TOKEN: 'not-the-token-0123456789' })), /refused the token from \$CONVERGIT_TOKEN/);
  // The CLI says the same, exit 1.
  const r = await cli(['history', '--server', url, '--certificate-authority', ca]);
  assert.is(r.code, 1);
  assert.match(r.out, /convergit history: https:\/\/[\d.]+:\d+: 401 Unauthorized/);
});

test('a certificate not trusted, or not the one the kubeconfig pins, is refused with what to do', async () => {
  const token = readFileSync(path.join(dataDir, 'token'), 'utf8').trim();
  const env = { KUBECONFIG: path.join(dataDir, 'none') };
  assert.match(await error(connectServer({ server: url, token }, () => undefined, env)!.getJson('/status')),
    /certificate is not trusted \(\w+\): give --kubeconfig with the file `convergit kubeconfig` prints/);
  // Another folder's certificate (the serve's was made again, or this is another server).
  const other = mkdtempSync(path.join(tmpdir(), 'convergit-credentials-other-'));
  try {
    const { cert } = await apiCertificate(other, HOST);
    const stale = path.join(other, 'kubeconfig');
    writeFileSync(stale, readFileSync(kubeconfig, 'utf8').replace(/certificate-authority-data: \S+/, `certificate-authority-data: ${Buffer.from(cert).toString('base64')}`));
    const r = await cli(['history', '--kubeconfig', stale]);
    assert.is(r.code, 1);
    assert.match(r.out, /certificate does not match the certificate authority from the kubeconfig .*kubeconfig \(\w+\).*print a new kubeconfig/);
    assert.is((await cli(['history', '--kubeconfig', stale, '--insecure-skip-tls-verify', '--output', 'json'])).code, 0, 'unless told not to verify');
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

test.run();
