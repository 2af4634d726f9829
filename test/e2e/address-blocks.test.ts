// Two real serves with different data folders on one machine at once: disjoint pod and Service addresses, and
// node addresses of their own. Both commit the same NodePort/LoadBalancer Service (nodePort 30080, port 9090) and
// Ingress (one --ingress-port): each is reachable at its node's address; on the shared 127.0.0.1 the first serve
// holds the ports and the second reports each one it could not open (events, /status, its printed URLs). A restart
// keeps its blocks (freeing them is tested in test/cli/address-blocks.test.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { freePort } from '../support/registry.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { inCidr } from '../../src/model/ip-pool.ts';

const NODE_PORT = 30080, LB_PORT = 9090;
const SERVER = `require('node:http').createServer((req, res) => res.end(process.env.POD_IP)).listen(8080, process.env.POD_IP);
process.on('SIGTERM', () => process.exit(0));
`;
const app = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: git:web
          command: [node, server.js]
          env: [{name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
          readinessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: ${LB_PORT}, targetPort: 8080, nodePort: ${NODE_PORT}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: web}
spec:
  defaultBackend: {service: {name: web, port: {number: ${LB_PORT}}}}
`;
let repo: TestRepo, dirA: string, dirB: string, a: ServeProcess | undefined, b: ServeProcess | undefined, INGRESS = 0, INGRESS_TLS = 0;

/** The serve's blocks as its log says, and the addresses it gave: its node's podCIDR and address, the Service's clusterIP. */
async function addresses(s: ServeProcess) {
  const m = /addresses: pods from (\S+), Services from (\S+)/.exec(s.output());
  assert.ok(m, s.output());
  const node = await until(async () => (await s.get('/api/v1/nodes')).body?.items?.[0], 'a node', 20_000);
  const clusterIP = await until(async () => (await s.get('/api/v1/namespaces/default/services/web')).body?.spec?.clusterIP as string | undefined, 'the Service', 20_000);
  const nodeIP = node.status.addresses.find((x: any) => x.type === 'InternalIP').address as string;
  return { cluster: m![1], service: m![2], podCIDR: node.spec.podCIDR as string, nodeIP, clusterIP };
}

/** The body of GET http://address:port/, or the error's code. */
const answer = (host: string, port: number) => new Promise<string>((resolve) => {
  const req = http.get({ host, port, path: '/', agent: false, timeout: 3000 }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => resolve(body));
  });
  req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
  req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
});
/** Which serve's pod answered (its address in that serve's cluster CIDR), once one does. */
const servedBy = (host: string, port: number, cidr: string) => until(async () => {
  const body = await answer(host, port);
  return /^\d+\.\d+\.\d+\.\d+$/.test(body) && inCidr(body, cidr);
}, `${host}:${port} to answer from a pod of ${cidr}`, 30_000);
const serveArgs = (dir: string) => ['--repo', repo.dir, '--data-dir', dir, '--ingress-port', String(INGRESS), '--ingress-tls-port', String(INGRESS_TLS)];

test.before(async () => {
  repo = makeRepo({ 'web/server.js': SERVER, 'app.yaml': app });
  dirA = mkdtempSync(path.join(tmpdir(), 'convergit-blocks-a-'));
  dirB = mkdtempSync(path.join(tmpdir(), 'convergit-blocks-b-'));
  [INGRESS, INGRESS_TLS] = [await freePort(), await freePort()];
  a = await startServe(serveArgs(dirA), { listenTimeoutMs: 60_000 });
  // The first serve holds the shared address's ports before the second starts: first come.
  await servedBy('127.0.0.1', NODE_PORT, (await addresses(a)).cluster);
  b = await startServe(serveArgs(dirB), { listenTimeoutMs: 60_000 });
});

test.after(async () => {
  await a?.shutdown();
  await b?.shutdown();
  repo.cleanup();
  rmSync(dirA, { recursive: true, force: true });
  rmSync(dirB, { recursive: true, force: true });
});

test('two serves at once get disjoint blocks, each node an address of its own', async () => {
  const [ia, ib] = [await addresses(a!), await addresses(b!)];
  assert.is.not(ia.cluster, ib.cluster);
  assert.is.not(ia.service, ib.service);
  for (const [x, y] of [[ia, ib], [ib, ia]]) {
    assert.ok(inCidr(x.podCIDR.replace(/\/\d+$/, ''), x.cluster), JSON.stringify(x));
    assert.ok(inCidr(x.clusterIP, x.service), JSON.stringify(x));
    assert.not.ok(inCidr(x.clusterIP, y.service), JSON.stringify([x, y]));
    assert.not.ok(inCidr(x.podCIDR.replace(/\/\d+$/, ''), y.cluster), JSON.stringify([x, y]));
    assert.ok(inCidr(x.nodeIP, x.podCIDR), JSON.stringify(x)); // the first address of the node's podCIDR
  }
  // The pod's hostIP is its node's address, and no pod has it.
  const pod = await until(async () => (await b!.get('/api/v1/namespaces/default/pods')).body?.items?.find((p: any) => p.status?.podIP), 'a pod with an address', 20_000);
  assert.is(pod.status.hostIP, ib.nodeIP);
  assert.is.not(pod.status.podIP, ib.nodeIP);
});

test('the same nodePort and LoadBalancer port work at each node address; 127.0.0.1 is the first serve\'s', async () => {
  const [ia, ib] = [await addresses(a!), await addresses(b!)];
  for (const port of [NODE_PORT, LB_PORT]) {
    await servedBy(ia.nodeIP, port, ia.cluster);
    await servedBy(ib.nodeIP, port, ib.cluster);
    await servedBy('127.0.0.1', port, ia.cluster);
  }
  const lb = async (s: ServeProcess) => (await s.get('/api/v1/namespaces/default/services/web')).body.status?.loadBalancer?.ingress;
  const entry = (ip: string) => ({ ip, ipMode: 'VIP', ports: [{ port: LB_PORT, protocol: 'TCP' }] });
  assert.equal(await until(async () => (await lb(a!))?.length === 2 && lb(a!), 'A\'s LoadBalancer status'), [entry('127.0.0.1'), entry(ia.nodeIP)]);
  assert.equal(await lb(b!), [entry(ib.nodeIP)]);
  // The URLs printed are the ones that work.
  await until(() => a!.output().includes(`Service default/web: open http://127.0.0.1:${NODE_PORT}/`), 'A\'s URL');
  await until(() => b!.output().includes(`Service default/web: open http://${ib.nodeIP}:${NODE_PORT}/`), 'B\'s URL', 15_000);
});

test('the second serve reports each port it could not open on 127.0.0.1 and who holds it: events and /status', async () => {
  const ib = await addresses(b!);
  const held = `pid ${a!.pid}`;
  const conflicts = await until(async () => {
    const c = (await b!.get('/status')).body.portConflicts as any[] | undefined;
    return c && c.length === 4 && c;
  }, 'four port conflicts in B\'s /status', 15_000);
  assert.equal(conflicts.map((c) => `${c.kind} ${c.address}:${c.port}`).sort(),
    [`ingress-http 127.0.0.1:${INGRESS}`, `ingress-https 127.0.0.1:${INGRESS_TLS}`, `loadBalancer 127.0.0.1:${LB_PORT}`, `nodePort 127.0.0.1:${NODE_PORT}`].sort());
  for (const c of conflicts) {
    assert.ok(c.heldBy.startsWith(held) || c.heldBy.includes('serve'), JSON.stringify(c)); // the holder: A (its pid, or its command line)
    assert.match(c.message, ib.nodeIP);
  }
  assert.equal((await a!.get('/status')).body.portConflicts, [], 'the first serve holds all its ports');
  const events = ((await b!.get('/api/v1/namespaces/default/events')).body.items as any[]).filter((e) => e.type === 'Warning' && e.reason === 'FailedToOpenPort');
  assert.ok(events.some((e) => e.involvedObject.kind === 'Service' && e.message.includes(`127.0.0.1:${NODE_PORT} is held by`)), JSON.stringify(events));
  assert.ok(events.some((e) => e.involvedObject.kind === 'Ingress' && e.message.includes(`127.0.0.1:${INGRESS}`)), JSON.stringify(events));
  // The page says it too.
  assert.match((await b!.get('/')).text, `127.0.0.1:${NODE_PORT}`);
});

test('each serve\'s Ingress is served at its node address; the Ingress status lists where', async () => {
  const [ia, ib] = [await addresses(a!), await addresses(b!)];
  await servedBy(ia.nodeIP, INGRESS, ia.cluster);
  await servedBy(ib.nodeIP, INGRESS, ib.cluster);
  await servedBy('127.0.0.1', INGRESS, ia.cluster);
  // HTTPS too, at the node's address (the default certificate: no TLS Secret here).
  const tlsBody = await new Promise<string>((resolve, reject) => https.get({ host: ib.nodeIP, port: INGRESS_TLS, path: '/', agent: false, rejectUnauthorized: false, timeout: 5000 }, (res) => {
    let body = '';
    res.on('data', (c) => (body += c));
    res.on('end', () => resolve(body));
  }).on('error', reject));
  assert.ok(inCidr(tlsBody, ib.cluster), tlsBody);
  const status = async (s: ServeProcess) => (await s.get('/apis/networking.k8s.io/v1/namespaces/default/ingresses/web')).body.status?.loadBalancer?.ingress;
  assert.equal(await until(async () => (await status(a!))?.length === 2 && status(a!), 'A\'s Ingress status'), [{ ip: '127.0.0.1' }, { ip: ia.nodeIP }]);
  assert.equal(await until(async () => (await status(b!))?.length && status(b!), 'B\'s Ingress status'), [{ ip: ib.nodeIP }]);
});

test('a restart keeps its blocks and addresses', async () => {
  const ia = await addresses(a!);
  await a!.stop();
  a = await startServe(serveArgs(dirA), { listenTimeoutMs: 60_000 });
  assert.equal(await addresses(a), ia, 'the restarted serve keeps its blocks and addresses');
});

test.run();
