// Which credentials `plan --server` and `history` send where (src/cli/server-connection.ts): a kubeconfig's token
// goes only to the server its cluster names; another --server gets none (only --token or $CONVERGIT_TOKEN).
// Two real HTTP servers on loopback record the Authorization header they are sent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import http from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connectServer } from '../../src/cli/server-connection.ts';

const seen: Record<string, (string | undefined)[]> = {};
const servers: http.Server[] = [];
const urls: string[] = [];
let dir: string, kubeconfig: string;

test.before(async () => {
  for (const name of ['a', 'b']) {
    seen[name] = [];
    const s = http.createServer((req, res) => {
      seen[name].push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ server: name }));
    });
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    servers.push(s);
    urls.push(`http://127.0.0.1:${(s.address() as AddressInfo).port}`);
  }
  dir = mkdtempSync(path.join(tmpdir(), 'convergit-server-connection-'));
  kubeconfig = path.join(dir, 'config');
  writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
current-context: convergit-a
clusters: [{ name: a, cluster: { server: '${urls[0]}/' } }]
users: [{ name: a-user, user: { token: token-of-a } }]
contexts: [{ name: convergit-a, context: { cluster: a, user: a-user } }]
`);
});

test.after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

test.before.each(() => { seen.a.length = 0; seen.b.length = 0; });

const get = async (flags: object, env: NodeJS.ProcessEnv, fallback: () => string | undefined = () => undefined) =>
  connectServer(flags, fallback, env)!.getJson('/status');

test('the kubeconfig\'s token goes to its own server (current context, or a --server it names)', async () => {
  assert.equal(await get({ kubeconfig }, {}), { server: 'a' });
  assert.equal(await get({ server: urls[0] }, { KUBECONFIG: kubeconfig }), { server: 'a' });
  assert.equal(seen.a, ['Bearer token-of-a', 'Bearer token-of-a']);
});

test('another --server gets no token from the kubeconfig, whatever its current context', async () => {
  assert.equal(await get({ server: urls[1] }, { KUBECONFIG: kubeconfig }), { server: 'b' });
  assert.equal(await get({ server: urls[1], kubeconfig }, {}), { server: 'b' });
  // history's default when the current context is not convergit's: the fallback URL, no token either.
  assert.equal(await get({}, { KUBECONFIG: kubeconfig }, () => urls[1]), { server: 'b' });
  assert.equal(seen.b, [undefined, undefined, undefined]);
  // Only a token given for it is sent there.
  assert.equal(await get({ server: urls[1] }, { KUBECONFIG: kubeconfig, CONVERGIT_TOKEN: 'given ' }), { server: 'b' });
  assert.equal(await get({ server: urls[1], token: 'flag' }, { KUBECONFIG: kubeconfig }), { server: 'b' });
  assert.equal(seen.b.slice(3), ['Bearer given', 'Bearer flag']);
  assert.equal(seen.a, []);
});

test('--context of a kubeconfig that has none: a clear error, nothing sent', async () => {
  assert.throws(() => connectServer({ context: 'nope', kubeconfig }, () => undefined, {}), /--context nope: no such context in .*config/);
  assert.equal(seen.a, []);
});

test.run();
