// A UDP Service end to end on the process runtime: a real UDP echo pod (a node one-liner), reached through its
// ClusterIP and its NodePort by datagrams from the host. Real serve, real processes, real UDP.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import dgram from 'node:dgram';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const ECHO = `const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, from) => s.send(process.env.POD_IP + ':' + m, from.port, from.address));
s.bind(5353, process.env.POD_IP);
`;
const MANIFESTS = `apiVersion: v1
kind: Pod
metadata:
  name: udp-echo
  labels: { app: udp-echo }
spec:
  containers:
    - name: echo
      image: git:apps/udp
      command: ["node", "echo.js"]
      ports:
        - { name: dns, containerPort: 5353, protocol: UDP }
---
apiVersion: v1
kind: Service
metadata:
  name: udp-echo
spec:
  type: NodePort
  selector: { app: udp-echo }
  ports:
    - { name: dns, port: 53, targetPort: dns, protocol: UDP }
`;

let repo: TestRepo, dataDir: string, serve: ServeProcess;

test.before(async () => {
  repo = makeRepo({ 'udp.yaml': MANIFESTS, 'apps/udp/echo.js': ECHO });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-udp-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir]);
});

test.after(async () => {
  await serve?.shutdown();
  repo.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

/** One datagram and its reply (or '' after a while: UDP says nothing when no one answers). */
function ask(host: string, port: number, text: string): Promise<string> {
  const s = dgram.createSocket('udp4');
  return new Promise((resolve) => {
    const done = (r: string) => { clearTimeout(t); s.close(); resolve(r); };
    const t = setTimeout(() => done(''), 1000);
    s.on('message', (m) => done(String(m)));
    s.send(text, port, host);
  });
}

test('a UDP echo pod answers through its ClusterIP and its NodePort', async () => {
  const pod = await until(async () => {
    const p = (await serve.get('/api/v1/namespaces/default/pods/udp-echo')).body;
    return p.status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True' && p.status.podIP ? p : undefined;
  }, 'the echo pod to be ready', 30_000);
  const svc = await until(async () => {
    const s = (await serve.get('/api/v1/namespaces/default/services/udp-echo')).body;
    return s.spec?.clusterIP && s.spec.ports?.[0]?.nodePort ? s : undefined;
  }, 'the Service to get its addresses');
  assert.is(svc.spec.ports[0].protocol, 'UDP');
  const want = `${pod.status.podIP}:ping`;
  // Retried until the Endpoints reach the proxy: a datagram sent before that is dropped, as on Kubernetes.
  assert.is(await until(async () => (await ask(svc.spec.clusterIP, 53, 'ping')) || undefined, 'an answer on the ClusterIP'), want);
  assert.is(await until(async () => (await ask('127.0.0.1', svc.spec.ports[0].nodePort, 'ping')) || undefined, 'an answer on the NodePort'), want);
  // serve says where, without calling it a web page.
  await until(() => serve.output().includes(`Service default/udp-echo (dns): open 127.0.0.1:${svc.spec.ports[0].nodePort}/UDP`), 'serve to announce the UDP NodePort');
});

test.run();
