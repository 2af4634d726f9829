// The bearer token: beyond loopback every request but health and version needs it (401 Status as kube-apiserver);
// Secret values go only to requests carrying it; real kubectl with `convergit kubeconfig`'s file reads through it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { openStore } from '../../src/store/lowdb-store.ts';
import { startApiServer, type ApiServer } from '../../src/api/server.ts';
import { isLoopbackHost } from '../../src/api/auth.ts';
import { loadApiToken } from '../../src/cli/api-token.ts';
import { apiCertificate, type ApiCertificate } from '../../src/cli/api-certificate.ts';
import { kubeconfigFor } from '../../src/cli/kubeconfig.ts';
import { toYaml } from '../../src/manifests/to-yaml.ts';
import type { Store } from '../../src/store/store.ts';

const run = promisify(execFile);
const TOKEN = 'test-token-0123456789abcdef';
let dir: string, store: Store, open: ApiServer, guarded: ApiServer, cert: ApiCertificate;
const base = { repository: '/r', branch: 'main', version: 'test' };
/** The guarded server listens on 0.0.0.0 over TLS; it is reached at 127.0.0.1 (the rule follows the listening address). */
const guardedUrl = () => `https://127.0.0.1:${guarded.port}`;
const parse = (text: string) => { try { return JSON.parse(text); } catch { return undefined; } };
/** GET over HTTPS (verifying the server's self-signed certificate) or plain HTTP. */
const get = async (url: string, token?: string) => {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (url.startsWith('http:')) {
    const res = await fetch(url, { headers });
    const text = await res.text();
    return { status: res.status, text, body: parse(text) };
  }
  return new Promise<{ status: number; text: string; body: any }>((resolve, reject) => {
    request(url, { ca: cert.cert, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d) => (text += d)).on('end', () => resolve({ status: res.statusCode!, text, body: parse(text) }));
    }).on('error', reject).end();
  });
};

test.before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-auth-'));
  store = await openStore(dir);
  await store.create({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'db', namespace: 'default' }, type: 'Opaque', data: { password: Buffer.from('s3cret').toString('base64') } });
  await store.create({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { a: '1' } });
  open = await startApiServer({ store, host: '127.0.0.1', port: 0, token: TOKEN, ...base });
  cert = await apiCertificate(dir, '0.0.0.0');
  guarded = await startApiServer({ store, host: '0.0.0.0', port: 0, token: TOKEN, tls: cert, ...base });
});

test.after(async () => {
  await open.close();
  await guarded.close();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

test('TokenReview: the data folder\'s token is authenticated as its holder, another is not', async () => {
  const review = async (token: string) => (await fetch(`${open.url}/apis/authentication.k8s.io/v1/tokenreviews`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token } }),
  }).then((r) => r.json()) as any).status;
  assert.equal(await review(TOKEN), { authenticated: true, user: { username: 'convergit:api-token', groups: ['system:authenticated'] }, audiences: [] });
  assert.equal(await review(`${TOKEN}x`), { authenticated: false, user: {} });
});

test('loopback addresses are told from the others', () => {
  for (const h of ['127.0.0.1', '127.9.8.7', '::1', '[::1]', 'localhost']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', '192.168.1.2', '128.0.0.1', 'example.com']) assert.not.ok(isLoopbackHost(h), h);
});

test('beyond loopback without a token the API does not start', async () => {
  await startApiServer({ store, host: '0.0.0.0', port: 0, ...base }).then(() => assert.unreachable('started'), (e) => assert.match(e.message, /beyond loopback: it needs a bearer token/));
});

test('beyond loopback: 401 Unauthorized Status without the token or with a wrong one; health and version stay open', async () => {
  for (const p of ['/api/v1/namespaces/default/configmaps', '/api/v1/pods?watch=true', '/status', '/metrics', '/', '/api', '/openapi/v2']) {
    for (const token of [undefined, 'wrong-token-0123456789', `${TOKEN}x`]) {
      const r = await get(guardedUrl() + p, token);
      assert.is(r.status, 401, `${p} ${token}`);
      assert.equal(r.body, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 });
    }
  }
  for (const p of ['/healthz', '/livez', '/readyz', '/version']) assert.is((await get(guardedUrl() + p)).status, 200, p);
  const ok = await get(`${guardedUrl()}/api/v1/namespaces/default/configmaps`, TOKEN);
  assert.is(ok.status, 200);
  assert.equal(ok.body.items.map((o: any) => o.metadata.name), ['cm']);
});

test("beyond loopback: a single object's GET is 401 without the token also once the API's front keeps it, and answered there with it", async () => {
  const url = `${guardedUrl()}/api/v1/namespaces/default/configmaps/cm`;
  for (let i = 0; i < 2; i++) { // the first read is the main thread's, after which the front keeps the object
    assert.is((await get(url, TOKEN)).body.metadata.name, 'cm');
    assert.is((await get(url)).status, 401);
    assert.is((await get(url, 'wrong-token-0123456789')).status, 401);
  }
});

test('beyond loopback: an upgrade (kubectl exec) without the token is 401 too', async () => {
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(`${guardedUrl()}/api/v1/namespaces/default/pods/p/exec`, { ca: cert.cert, headers: { connection: 'upgrade', upgrade: 'websocket' } });
    req.on('response', (res) => { res.resume(); resolve(res.statusCode!); });
    req.on('upgrade', () => reject(new Error('upgraded')));
    req.on('error', reject);
    req.end();
  });
  assert.is(status, 401);
});

test('loopback: open, but Secret values only with the token (get, list, watch, table)', async () => {
  const anon = await get(`${open.url}/api/v1/namespaces/default/secrets/db`);
  assert.is(anon.status, 200);
  assert.equal(anon.body.data, { password: '' });
  assert.match(anon.body.metadata.annotations['convergit.dev/data-redacted'], /bearer token/);
  assert.not.match(anon.text, /czNjcmV0/); // base64 of s3cret, anywhere
  const list = await get(`${open.url}/api/v1/secrets`);
  assert.equal(list.body.items[0].data, { password: '' });
  const table = await fetch(`${open.url}/api/v1/secrets?includeObject=Object`, { headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' } }).then((r) => r.text());
  assert.not.match(table, /czNjcmV0/);
  const watch = await fetch(`${open.url}/api/v1/secrets?watch=true&timeoutSeconds=1`).then((r) => r.text());
  assert.match(watch, /"ADDED"/);
  assert.not.match(watch, /czNjcmV0/);
  const authed = await get(`${open.url}/api/v1/namespaces/default/secrets/db`, TOKEN);
  assert.is(authed.body.data.password, Buffer.from('s3cret').toString('base64'));
  assert.is(authed.body.metadata.annotations, undefined);
});

test('real kubectl with the kubeconfig convergit writes (token, certificate pinned): reads a guarded API and Secret values; without the token, Unauthorized', async () => {
  const file = path.join(dir, 'kubeconfig');
  writeFileSync(file, toYaml(kubeconfigFor(dir, guardedUrl(), TOKEN, cert.cert)));
  // stdin closed: kubectl with no credentials over TLS would otherwise ask for a user name.
  const kubectl = (...args: string[]) => {
    const p = run('kubectl', ['--kubeconfig', file, '--request-timeout', '10s', ...args], { timeout: 30_000 });
    p.child.stdin!.end();
    return p.then((r) => ({ code: 0, ...r }), (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }));
  };
  const secret = await kubectl('get', 'secret', 'db', '-o', 'jsonpath={.data.password}');
  assert.is(secret.code, 0, secret.stderr);
  assert.is(Buffer.from(secret.stdout, 'base64').toString(), 's3cret');
  const who = await kubectl('auth', 'whoami');
  assert.match(who.stdout, /Username\s+convergit:api-token\s+Groups\s+\[system:authenticated\]/, who.stdout + who.stderr);
  writeFileSync(file, toYaml(kubeconfigFor(dir, guardedUrl(), undefined, cert.cert)));
  const refused = await kubectl('get', 'configmaps');
  assert.is.not(refused.code, 0);
  // kubectl, answered 401 over TLS with no credentials, asks for a user name (stdin is closed: EOF).
  assert.match(refused.stdout + refused.stderr, /Please enter Username/, refused.stdout + refused.stderr);
  assert.not.match(refused.stdout, /cm/);
});

test('the certificate: made once, the key mode 0600, names this machine\'s addresses', async () => {
  assert.is(statSync(path.join(dir, 'apiserver.key')).mode & 0o777, 0o600);
  assert.is((await apiCertificate(dir, '0.0.0.0')).cert, cert.cert, 'kept: kubeconfigs written before go on working');
  const { X509Certificate } = await import('node:crypto');
  assert.match(new X509Certificate(cert.cert).subjectAltName ?? '', /IP Address:127\.0\.0\.1/);
});

test('the token: generated once into the data folder with mode 0600 and kept; the environment and --token-file override', () => {
  const data = mkdtempSync(path.join(tmpdir(), 'convergit-token-'));
  try {
    const first = loadApiToken(data, undefined, {});
    assert.is(first.file, path.join(data, 'token'));
    assert.is(statSync(first.file!).mode & 0o777, 0o600);
    assert.ok(first.token.length >= 40);
    assert.is(loadApiToken(data, undefined, {}).token, first.token, 'kept across restarts');
    assert.is(loadApiToken(data, undefined, { CONVERGIT_API_TOKEN: TOKEN }).token, TOKEN);
    const given = path.join(data, 'given');
    writeFileSync(given, `${TOKEN}\n`);
    assert.equal(loadApiToken(data, given, {}), { token: TOKEN, file: given });
    writeFileSync(given, 'short\n');
    assert.throws(() => loadApiToken(data, given, {}), /--token-file .*given: a bearer token must be at least 16/);
    assert.throws(() => loadApiToken(data, path.join(data, 'missing'), {}), /--token-file .*missing: no such file/);
    assert.is(readFileSync(first.file!, 'utf8').trim(), first.token);
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test.run();
