// Zero downtime by construction: rolling updates of an app that exits at once on SIGTERM (no draining of its own,
// no preStop), under steady requests through its NodePort and through an Ingress (new connections, and kept-alive
// ones), fail no request: a leaving pod is taken out of its Service's endpoints, the service proxy and the ingress
// stop sending it connections and requests and let in-flight ones finish (the proxy closes a kept-alive connection
// to it once idle), and only then does the node send SIGTERM. Real serve, real processes, real TCP.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request } from 'node:http';
import autocannon from 'autocannon';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';
import { freePort } from '../support/registry.ts';

const ROLLOUTS = Number(process.env.ZERO_DOWNTIME_ROLLOUTS ?? 3);
// The torture variant (npm run torture sets the rollouts) drives the Ingress load with autocannon (kept-alive
// connections, each sending its next request as soon as the answer is in); the short one with a loop of plain
// requests. The NodePort load is a loop in both: autocannon cannot pause between requests (the kept-alive NodePort
// clients do, as the proxy can close a kept-alive connection only while it is idle), and its reconnectRate, the
// one way to get a connection per request, drops the answer to the request it reconnects after (9.0.0: with
// reconnectRate 1, 0 answers counted of 113 requests served).
const AUTOCANNON = (process.env.ZERO_DOWNTIME_LOAD ?? (process.env.ZERO_DOWNTIME_ROLLOUTS ? 'autocannon' : 'loop')) === 'autocannon';
// Answers after a short delay (/slow: a longer one), so that requests are in flight when a pod leaves; exits at once
// on SIGTERM. The Ingress clients POST to /slow: their requests outlast the NodePort's connections, so a pod stopped
// once the service proxy alone has drained would cut them, and a POST is not sent again to another pod.
const SERVER = `const http = require('node:http');
http.createServer((req, res) => setTimeout(() => res.end(process.env.VERSION + '\\n'), req.url.startsWith('/slow') ? 300 : 20)).listen(8080, process.env.POD_IP);
process.on('SIGTERM', () => process.exit(0));
`;
const manifests = (version: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  replicas: 2
  selector:
    matchLabels: { app: echo }
  template:
    metadata:
      labels: { app: echo }
    spec:
      terminationGracePeriodSeconds: 10
      containers:
        - name: echo
          image: git:apps/echo
          command: ["node", "server.js"]
          env:
            - { name: VERSION, value: "${version}" }
          ports:
            - containerPort: 8080
          readinessProbe:
            tcpSocket: { port: 8080 }
            periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: echo
spec:
  type: NodePort
  selector: { app: echo }
  ports:
    - port: 80
      targetPort: 8080
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: echo
spec:
  rules:
    - http:
        paths:
          - path: /
            pathType: Prefix
            backend:
              service: { name: echo, port: { number: 80 } }
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess, ingressPort = 0;
/** Kept-alive connections the proxy closed to a leaving pod: right after an answer (HTTP/1), or once idle. */
const proxyClosed = () => serve.output().split('\n').filter((l) => /closed (a|an idle) kept-alive connection/.test(l)).length;

/** One GET (or POST); `agent` false: a connection of its own, closed after the answer. */
function get(url: string, agent: Agent | false = false, method = 'GET'): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, method, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e) => reject(Object.assign(e, { reusedSocket: req.reusedSocket })));
    req.end();
  });
}

async function rolledOut(version: string) {
  await until(async () => {
    const d = (await serve.get('/apis/apps/v1/namespaces/default/deployments/echo')).body;
    const s = d.status ?? {};
    const pods = (await serve.get('/api/v1/namespaces/default/pods?labelSelector=app%3Decho')).body.items as any[];
    return s.observedGeneration === d.metadata.generation && s.updatedReplicas === 2 && s.availableReplicas === 2 && s.replicas === 2
      && pods.length === 2 && pods.every((p) => p.spec.containers[0].env[0].value === version && !p.metadata.deletionTimestamp);
  }, `${version} rolled out`, 60_000);
}

test.before(async () => {
  repo = makeRepo({ 'echo.yaml': manifests('v0'), 'apps/echo/server.js': SERVER });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-zero-downtime-'));
  ingressPort = await freePort();
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--ingress-port', String(ingressPort), '--ingress-tls-port', String(await freePort())]);
});

test.after(async () => {
  await serve?.shutdown();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test(`${ROLLOUTS} rolling updates of an app that exits at once on SIGTERM, under steady requests (NodePort, Ingress, kept-alive Ingress): 0 failed`, async () => {
  await rolledOut('v0');
  const port = await until(async () => (await serve.get('/api/v1/namespaces/default/services/echo')).body.spec?.ports?.[0]?.nodePort, 'a node port');
  const nodePort = `http://127.0.0.1:${port}/`;
  const ingress = `http://127.0.0.1:${ingressPort}/slow`;
  await until(async () => (await get(nodePort).catch(() => '')) === 'v0', 'the Service to answer');
  await until(async () => (await get(ingress).catch(() => '')) === 'v0', 'the Ingress to answer');
  // Kept-alive connections to the ingress, as browsers and pools hold them: they outlive every pod.
  const keepAlive = new Agent({ keepAlive: true, maxSockets: 2 });
  let ingressConnections = 0;
  const connect = keepAlive.createConnection.bind(keepAlive);
  keepAlive.createConnection = (...a: Parameters<Agent['createConnection']>) => (ingressConnections++, connect(...a));
  // Kept-alive connections through the NodePort, with a pause between requests (a browser's): relayed as bytes,
  // so the proxy can close one to a leaving pod only while it is idle.
  const pools = [new Agent({ keepAlive: true, maxSockets: 1 }), new Agent({ keepAlive: true, maxSockets: 1 })];

  let running = true;
  const ok: Record<string, number> = {};
  const failures: string[] = [];
  const seen = new Set<string>();
  let retried = 0;
  const client = async (name: string, url: string, agent: Agent | false, method = 'GET', thinkMs = 0) => {
    ok[name] ??= 0;
    while (running) {
      try {
        seen.add(await get(url, agent, method).catch((e) => {
          // What browsers, Go's and Node's documented clients do: a GET whose kept-alive connection was closed
          // before any answer (the close crossed the request on the wire) is sent again on a new one.
          if (!(e.reusedSocket && e.code === 'ECONNRESET' && method === 'GET')) throw e;
          retried++;
          return get(url, agent, method);
        }));
        ok[name]++;
      } catch (e) {
        failures.push(`${new Date().toISOString()} ${name}: ${(e as Error).message}`);
      }
      if (thinkMs) await new Promise((r) => setTimeout(r, thinkMs));
    }
  };
  /** autocannon until the rollouts are over; its errors, timeouts and non-2xx answers are failures. */
  const cannon = (name: string, url: string, o: { connections: number; method?: 'GET' | 'POST' }) => {
    ok[name] ??= 0;
    let instance: autocannon.Instance | undefined;
    const done = new Promise<void>((resolve, reject) => {
      instance = autocannon({
        url, connections: o.connections, duration: 24 * 3600, timeout: 10,
        requests: [{ method: o.method ?? 'GET', onResponse: (status, body) => { if (status === 200) seen.add(body.trim()); } }],
      }, (err, r) => {
        if (err) return reject(err);
        ok[name] += r['2xx'];
        if (r.errors || r.non2xx) failures.push(`${name}: ${r.errors} errors (${r.timeouts} timeouts), ${r.non2xx} non-2xx answers`);
        resolve();
      });
    });
    return { done, stop: () => instance?.stop() };
  };
  const cannons = AUTOCANNON ? [cannon('ingress keep-alive', ingress, { connections: 3, method: 'POST' })] : [];
  const clients = [
    client('nodePort', nodePort, false), client('nodePort', nodePort, false),
    ...pools.map((a) => client('nodePort keep-alive', nodePort, a, 'GET', 600)),
    ...AUTOCANNON ? [] : [client('ingress', ingress, false, 'POST'),
      client('ingress keep-alive', ingress, keepAlive, 'POST'), client('ingress keep-alive', ingress, keepAlive, 'POST')],
  ];
  try {
    for (let i = 1; i <= ROLLOUTS; i++) {
      repo.write('echo.yaml', manifests(`v${i}`));
      repo.commit(`v${i}`);
      await rolledOut(`v${i}`);
    }
    await until(() => seen.has(`v${ROLLOUTS}`), 'the last version to answer');
  } finally {
    running = false;
    for (const c of cannons) c.stop();
    await Promise.all([...clients, ...cannons.map((c) => c.done)]);
    for (const a of [keepAlive, ...pools]) a.destroy();
  }
  const total = Object.values(ok).reduce((a, b) => a + b, 0);
  console.log(`    ${JSON.stringify(ok)} requests over ${ROLLOUTS} rollouts, ${failures.length} failed, ${retried} sent again on a new connection`);
  assert.equal(failures, [], `${failures.length} of ${total + failures.length} requests failed`);
  for (const [name, n] of Object.entries(ok)) assert.ok(n > ROLLOUTS * 2, `only ${n} requests were made through ${name}`);
  // Kept-alive NodePort connections were closed by the proxy as their pods left (not held to the grace period).
  assert.ok(proxyClosed() > 0, 'the proxy closed no kept-alive connection');
  assert.ok(seen.size >= ROLLOUTS, `answers came from ${seen.size} versions`);
  if (!AUTOCANNON) assert.ok(ingressConnections <= 4, `the kept-alive Ingress clients opened ${ingressConnections} connections for ${ok['ingress keep-alive']} requests`);
});

test.run();
