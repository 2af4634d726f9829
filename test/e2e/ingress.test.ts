// End to end on the process runtime: two Services behind one Ingress, routed by host (precise and wildcard) and
// by path (Exact, Prefix), over HTTP and HTTPS (a kubernetes.io/tls Secret picked by SNI; a missing Secret gives
// the default certificate and a Warning), a websocket upgrade, 404 for no rule and 503 for a Service without
// ready endpoints; the Ingress' address in its status, in kubectl and on the status page; an Ingress of another class left alone.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { generate } from 'selfsigned';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { freePort } from '../support/registry.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

// Answers with who it is and what it was sent; echoes a websocket-style upgraded stream.
const SERVER = `const http = require('node:http');
const server = http.createServer((req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ name: process.env.NAME, url: req.url, headers: req.headers }));
});
server.on('upgrade', (req, socket) => {
  socket.write('HTTP/1.1 101 Switching Protocols\\r\\nupgrade: websocket\\r\\nconnection: Upgrade\\r\\n\\r\\n');
  socket.pipe(socket);
});
server.listen(8080, process.env.POD_IP || '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

const app = (name: string, servicePort: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}}
spec:
  replicas: 1
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec:
      containers:
        - name: echo
          image: git:echo
          command: [node, server.js]
          env: [{name: NAME, value: ${name}}]
          ports: [{name: http, containerPort: 8080}]
          readinessProbe: {tcpSocket: {port: http}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: ${name}}
spec:
  selector: {app: ${name}}
  ports: [${servicePort}]
`;

const backend = (service: string, port: string) => `{service: {name: ${service}, port: ${port}}}`;
const INGRESS = `apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: routes}
spec:
  tls:
    - {hosts: [secure.example], secretName: secure-tls}
    - {hosts: [missing.example], secretName: no-such-secret}
  rules:
    - host: a.example
      http: {paths: [{path: /, pathType: Prefix, backend: ${backend('a', '{name: http}')}}]}
    - host: "*.wild.example"
      http: {paths: [{path: /, pathType: Prefix, backend: ${backend('b', '{number: 8000}')}}]}
    - host: secure.example
      http: {paths: [{path: /, pathType: ImplementationSpecific, backend: ${backend('a', '{number: 80}')}}]}
    - http:
        paths:
          - {path: /a, pathType: Exact, backend: ${backend('a', '{number: 80}')}}
          - {path: /b, pathType: Prefix, backend: ${backend('b', '{number: 8000}')}}
          - {path: /b/a, pathType: Prefix, backend: ${backend('a', '{name: http}')}}
          - {path: /down, pathType: Prefix, backend: ${backend('nobody', '{number: 80}')}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: elsewhere}
spec:
  ingressClassName: nginx
  defaultBackend: ${backend('a', '{number: 80}')}
---
apiVersion: v1
kind: Service
metadata: {name: nobody}
spec:
  selector: {app: nobody}
  ports: [{port: 80, targetPort: 8080}]
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess, HTTP = 0, HTTPS = 0, CA = '';
const ingress = async (name: string) => (await serve.get(`/apis/networking.k8s.io/v1/namespaces/default/ingresses/${name}`)).body;
const events = async (name: string) => ((await serve.get('/api/v1/namespaces/default/events')).body.items as any[])
  .filter((e) => e.involvedObject?.kind === 'Ingress' && e.involvedObject?.name === name).map((e) => `${e.type} ${e.reason}: ${e.message}`);

interface Reply { status: number; body: string; json?: any; peer?: string }
/** One request on a fresh connection to the ingress listener, with a Host header (and SNI for https). */
function call(host: string, urlPath: string, secure = false): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const opts = { host: '127.0.0.1', port: secure ? HTTPS : HTTP, path: urlPath, headers: { host }, agent: false, timeout: 5000, servername: host, ca: CA };
    const req = (secure ? https : http).request(opts, (res) => {
      let body = '';
      const peer = secure ? (res.socket as any).getPeerCertificate?.().subject?.CN : undefined;
      res.on('data', (c) => (body += c));
      res.on('end', () => {
        let json: any;
        try { json = JSON.parse(body); } catch { /* not JSON */ }
        resolve({ status: res.statusCode ?? 0, body, json, peer });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
const nameAt = async (host: string, p: string) => { const r = await call(host, p); return r.json?.name ?? r.status; };

test.before(async () => {
  const pems = await generate([{ name: 'commonName', value: 'secure.example' }], { keyType: 'ec', curve: 'P-256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'secure.example' }] }] });
  CA = pems.cert;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  repo = makeRepo({
    'echo/server.js': SERVER,
    'a.yaml': app('a', '{name: http, port: 80, targetPort: http}'),
    'b.yaml': app('b', '{port: 8000, targetPort: 8080}'),
    'ingress.yaml': INGRESS,
    'tls.yaml': `apiVersion: v1\nkind: Secret\nmetadata: {name: secure-tls}\ntype: kubernetes.io/tls\ndata:\n  tls.crt: ${b64(pems.cert)}\n  tls.key: ${b64(pems.private)}\n`,
  });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-ingress-'));
  [HTTP, HTTPS] = [await freePort(), await freePort()];
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--ingress-port', String(HTTP), '--ingress-tls-port', String(HTTPS), '--restart-backoff', '300ms']);
  await until(async () => (await nameAt('a.example', '/')) === 'a' && (await nameAt('x.wild.example', '/')) === 'b', 'both apps served through the ingress', 30_000);
});

test.after(async () => {
  await serve?.shutdown();
  repo?.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('serve says where the ingress listens; the Ingress gets the address, kubectl shows it', async () => {
  assert.match(serve.output(), `ingress: http://127.0.0.1:${HTTP}/ https://127.0.0.1:${HTTPS}/`);
  // --host, and the node's own address (the first of its podCIDR), where the listeners are too.
  const node = serve.blocks().clusterCIDR.replace(/\.0\/\d+$/, '.1'); // another serve may hold the default 127.1.0.0/16
  assert.match(serve.output(), `ingress: http://${node}:${HTTP}/ https://${node}:${HTTPS}/ (node `);
  const ing = await until(async () => { const i = await ingress('routes'); return i.status?.loadBalancer?.ingress?.length === 2 && i; }, 'routes to get its addresses');
  assert.equal(ing.status.loadBalancer.ingress, [{ ip: '127.0.0.1' }, { ip: node }]);
  const { stdout } = await promisify(execFile)('kubectl', ['--server', serve.url, 'get', 'ingress', 'routes', '--no-headers'], { encoding: 'utf8', env: { ...process.env, KUBECONFIG: '/dev/null' } });
  // kubectl's formatHosts: three hosts, then the rules past the third (here the host-less one) as "+ N more...".
  assert.match(stdout, new RegExp(`^routes\\s+<none>\\s+a\\.example,\\*\\.wild\\.example,secure\\.example \\+ 1 more\\.\\.\\.\\s+127\\.0\\.0\\.1,${node.replaceAll('.', '\\.')}\\s+80, 443\\s`));
  const page = (await serve.get('/')).text;
  assert.match(page, /<h2>Ingresses<\/h2>/);
  assert.match(page, `<td>routes</td><td>&#60;default&#62;</td><td>a.example,*.wild.example,secure.example</td><td>127.0.0.1,${node}</td>`);
  assert.ok((await events('routes')).some((e) => e.startsWith('Normal Sync: Scheduled for sync')), (await events('routes')).join('\n'));
});

test('by host: precise and one-label wildcard; by path: Exact, Prefix, longest wins; headers forwarded', async () => {
  assert.is(await nameAt('A.Example:80', '/any/path'), 'a');
  assert.is(await nameAt('x.wild.example', '/'), 'b');
  assert.is(await nameAt('y.x.wild.example', '/b/c'), 'b', 'two labels: not the wildcard, the host-less rules');
  assert.is(await nameAt('other.example', '/a'), 'a');
  assert.is(await nameAt('other.example', '/a/'), 404, 'Exact /a does not take /a/');
  assert.is(await nameAt('other.example', '/bx'), 404, 'Prefix /b does not take /bx');
  assert.is(await nameAt('other.example', '/b/a/c'), 'a', 'the longest prefix wins');
  const r = await call('a.example', '/q?x=1');
  assert.is(r.json.url, '/q?x=1');
  assert.is(r.json.headers.host, 'a.example', 'the original Host reaches the backend');
  assert.is(r.json.headers['x-forwarded-for'], '127.0.0.1');
  assert.is(r.json.headers['x-forwarded-proto'], 'http');
  assert.is(r.json.headers['x-forwarded-host'], 'a.example');
});

test('no rule: 404 from the default backend; a Service without ready endpoints: 503', async () => {
  const none = await call('x.wild.example.org', '/nothing');
  assert.is(none.status, 404);
  assert.match(none.body, 'default backend - 404');
  const down = await call('other.example', '/down');
  assert.is(down.status, 503);
  assert.match(down.body, 'Service default/nobody port 80 has no ready endpoint');
});

test('TLS: the Secret for its host by SNI; a missing Secret gives the default certificate and a Warning', async () => {
  const r = await call('secure.example', '/s', true);
  assert.is(r.peer, 'secure.example');
  assert.is(r.json.name, 'a');
  assert.is(r.json.headers['x-forwarded-proto'], 'https');
  await call('missing.example', '/', true).then(() => assert.unreachable('the default certificate is not trusted'), (e) => assert.match(e.message, /self.signed|unable to verify/i));
  const noSni = await new Promise<string>((resolve, reject) => {
    const s = tls.connect({ host: '127.0.0.1', port: HTTPS, rejectUnauthorized: false }, () => { resolve(String(s.getPeerCertificate().subject.CN)); s.destroy(); });
    s.on('error', reject);
  });
  assert.is(noSni, 'convergit ingress default certificate', 'a client without SNI gets the default certificate');
  const ev = await until(async () => (await events('routes')).find((e) => e.includes('InvalidTLSSecret')), 'a Warning for the missing Secret');
  assert.is(ev, 'Warning InvalidTLSSecret: Secret default/no-such-secret does not exist: the default certificate is served instead');
});

test('a websocket upgrade is proxied both ways', async () => {
  const echoed = await new Promise<string>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: HTTP, path: '/ws', headers: { host: 'a.example', connection: 'Upgrade', upgrade: 'websocket' }, agent: false });
    req.on('upgrade', (_res, socket) => {
      socket.once('data', (d) => { resolve(String(d)); socket.destroy(); });
      socket.write('ping through the ingress');
    });
    req.on('response', (res) => reject(new Error(`no upgrade: ${res.statusCode}`)));
    req.on('error', reject);
    req.end();
  });
  assert.is(echoed, 'ping through the ingress');
});

test('an Ingress of another class is kept: no address, a Warning saying why', async () => {
  const ev = await until(async () => (await events('elsewhere')).find((e) => e.includes('NotRun')), 'a NotRun warning');
  assert.is(ev, 'Warning NotRun: kept, not run: its IngressClass "nginx" does not exist');
  assert.is((await ingress('elsewhere')).status?.loadBalancer?.ingress, undefined);
  assert.is((await serve.get('/apis/networking.k8s.io/v1/ingressclasses/convergit')).body.spec.controller, 'convergit.dev/ingress');
});

test('a committed default class of another controller takes classless Ingresses; pruned, convergit\'s class is back', async () => {
  const applied = (sha: string) => until(async () => (await serve.get('/status')).body.lastAppliedRevision === sha, `revision ${sha.slice(0, 7)} applied`);
  repo.write('classes.yaml', `apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: convergit}
spec: {controller: convergit.dev/ingress}
---
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata: {name: other, annotations: {ingressclass.kubernetes.io/is-default-class: "true"}}
spec: {controller: example.com/other}
`);
  await applied(repo.commit('another default class'));
  await until(async () => (await nameAt('a.example', '/')) === 404, 'routes no longer routed');
  assert.is((await until(async () => { const i = await ingress('routes'); return !i.status?.loadBalancer?.ingress && i; }, 'the address taken back')).metadata.name, 'routes');
  assert.ok((await events('routes')).includes('Warning NotRun: kept, not run: its IngressClass "other" is for controller example.com/other, not convergit.dev/ingress'));
  repo.remove('classes.yaml');
  await applied(repo.commit('back to the built-in class'));
  await until(async () => (await nameAt('a.example', '/')) === 'a', 'routes routed again');
  const cls = await until(async () => (await serve.get('/apis/networking.k8s.io/v1/ingressclasses/convergit')).body?.metadata?.annotations, 'the built-in class back');
  assert.is(cls['ingressclass.kubernetes.io/is-default-class'], 'true');
});

test.run();
