// Zero downtime by construction: rolling updates of an app that exits at once on SIGTERM (no draining of its own,
// no preStop), under steady requests through its NodePort, fail no request: a leaving pod is taken out of its
// Service's endpoints, the proxy stops sending it connections and lets in-flight ones finish, and only then does
// the node send SIGTERM. Real serve, real processes, real TCP.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const ROLLOUTS = Number(process.env.ZERO_DOWNTIME_ROLLOUTS ?? 3);
const CLIENTS = 4;
// Answers after a short delay, so that requests are in flight when a pod leaves; exits at once on SIGTERM.
const SERVER = `const http = require('node:http');
http.createServer((req, res) => setTimeout(() => res.end(process.env.VERSION + '\\n'), 20)).listen(8080, process.env.POD_IP);
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
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess;

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: 10_000 }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
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
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir]);
});

test.after(async () => {
  await serve?.shutdown();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test(`${ROLLOUTS} rolling updates of an app that exits at once on SIGTERM, under steady requests: 0 failed`, async () => {
  await rolledOut('v0');
  const port = await until(async () => (await serve.get('/api/v1/namespaces/default/services/echo')).body.spec?.ports?.[0]?.nodePort, 'a node port');
  const url = `http://127.0.0.1:${port}/`;
  await until(async () => (await get(url).catch(() => '')) === 'v0', 'the Service to answer');

  let running = true, ok = 0;
  const failures: string[] = [];
  const seen = new Set<string>();
  const client = async () => {
    while (running) {
      try {
        seen.add(await get(url));
        ok++;
      } catch (e) {
        failures.push(`${new Date().toISOString()} ${(e as Error).message}`);
      }
    }
  };
  const clients = Array.from({ length: CLIENTS }, client);
  try {
    for (let i = 1; i <= ROLLOUTS; i++) {
      repo.write('echo.yaml', manifests(`v${i}`));
      repo.commit(`v${i}`);
      await rolledOut(`v${i}`);
    }
    await until(() => seen.has(`v${ROLLOUTS}`), 'the last version to answer');
  } finally {
    running = false;
    await Promise.all(clients);
  }
  console.log(`    ${ok} requests over ${ROLLOUTS} rollouts, ${failures.length} failed`);
  assert.equal(failures, [], `${failures.length} of ${ok + failures.length} requests failed`);
  assert.ok(ok > ROLLOUTS * CLIENTS, `only ${ok} requests were made`);
  assert.ok(seen.size >= ROLLOUTS, `answers came from ${seen.size} versions`);
});

test.run();
