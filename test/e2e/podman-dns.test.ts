// End to end on podman: Services by cluster DNS name and by ClusterIP from inside a pod, and from the host; the
// containers of one pod share its localhost. A real
// `convergit serve --runtime podman` with a non-loopback service CIDR (made local to the host), images built from
// busybox-static and pushed to a registry started here, manifests committed to a git repository.
import { createHash } from 'node:crypto';
import dgram from 'node:dgram';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { podmanMissing, removeLeftoverNetworks } from '../support/podman.ts';
import { pushBusyboxImage, registryMissing, removeImages, startRegistry, type Registry } from '../support/registry.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const SERVICE_CIDR = '10.97.0.0/16';
const BACKEND_IP = '10.97.0.100';
// A UDP echo pod and a client that asks it through its Service's name, both node from the host's folders (git images).
const ECHO = `const s = require('node:dgram').createSocket('udp4');
s.on('message', (m, from) => s.send(process.env.POD_IP + ':' + m, from.port, from.address));
s.bind(5353);
`;
const UDP_CLIENT = `const s = require('node:dgram').createSocket('udp4');
let tries = 0;
const ask = () => { if (++tries > 240) { console.log('udp: no answer'); process.exit(1); } s.send('ping', 53, 'udp-echo', () => {}); };
s.on('message', (m) => {
  console.log('udp: ' + m);
  require('node:dns').lookup('foo.remote', (e, a) => { console.log('alias: ' + (e ? e.code : a)); process.exit(0); });
});
setInterval(ask, 500);
ask();
`;
const localRoutes = () => execFileSync('ip', ['route', 'show', 'table', 'local'], { encoding: 'utf8' });

const missing = podmanMissing() ?? registryMissing();
if (missing) {
  console.log(`e2e podman-dns: skipped, ${missing}`);
} else {
  let registry: Registry, repo: TestRepo, dataDir: string, serve: ServeProcess;
  const pod = async (name: string) => (await serve.get(`/api/v1/namespaces/default/pods/${name}`)).body;
  const logOf = async (name: string) => (await serve.get(`/api/v1/namespaces/default/pods/${name}/log`)).text;

  test.before(async () => {
    removeLeftoverNetworks('10-248-');
    registry = await startRegistry();
    pushBusyboxImage(`${registry.host}/httpd:1`, { entrypoint: ['httpd', '-f', '-p', '80', '-h', '/www'] });
    pushBusyboxImage(`${registry.host}/shell:1`, { entrypoint: ['sh', '-c'] });
    // The client asks until the backend answers by name (it may start first), then once more each way.
    const PEER = 'for i in $(seq 1 240); do out=$(wget -O - http://localhost:80/ 2>/dev/null) && break; sleep 0.5; done; echo "localhost: $out"; exec sleep 1000000';
    const script = [
      'for i in $(seq 1 240); do wget -O - http://backend/ 2>/dev/null && break; sleep 0.5; done',
      'echo "by fqdn: $(wget -O - http://backend.default.svc.cluster.local/ 2>/dev/null)"',
      `echo "by clusterIP: $(wget -O - http://${BACKEND_IP}/ 2>/dev/null)"`,
      'echo "unknown: $(wget -O - http://nope/ 2>&1 | head -1)"',
      'cat /etc/resolv.conf',
    ].join('\n');
    repo = makeRepo({
      'apps/udp/echo.js': ECHO,
      'apps/udp/client.js': UDP_CLIENT,
      'udp.yaml': `apiVersion: v1
kind: Pod
metadata: { name: udp-echo, labels: { app: udp-echo } }
spec:
  containers:
    - name: echo
      image: git:apps/udp
      command: [node, echo.js]
      ports: [{ name: dns, containerPort: 5353, protocol: UDP }]
---
apiVersion: v1
kind: Service
metadata: { name: udp-echo }
spec:
  selector: { app: udp-echo }
  ports: [{ name: dns, port: 53, targetPort: dns, protocol: UDP }]
---
apiVersion: v1
kind: Pod
metadata: { name: udp-client }
spec:
  restartPolicy: Never
  hostAliases: [{ ip: 10.1.2.3, hostnames: [foo.remote] }]
  containers:
    - name: main
      image: git:apps/udp
      command: [node, client.js]
`,
      'backend.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: backend
spec:
  replicas: 1
  selector: { matchLabels: { app: backend } }
  template:
    metadata: { labels: { app: backend } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: httpd
          image: ${registry.host}/httpd:1
          ports: [{ containerPort: 80 }]
          readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
        # The pod's containers share its network namespace: this one reaches httpd on localhost.
        - name: peer
          image: ${registry.host}/shell:1
          args: [${JSON.stringify(PEER)}]
---
apiVersion: v1
kind: Service
metadata:
  name: backend
spec:
  clusterIP: ${BACKEND_IP}
  selector: { app: backend }
  ports: [{ name: http, port: 80, targetPort: 80 }]
`,
      'client.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: client
spec:
  restartPolicy: Never
  containers:
    - name: main
      image: ${registry.host}/shell:1
      args: [${JSON.stringify(script)}]
---
apiVersion: v1
kind: Pod
metadata:
  name: hostnet
spec:
  restartPolicy: Never
  hostNetwork: true
  dnsPolicy: ClusterFirstWithHostNet
  dnsConfig: { searches: [extra.example], options: [{ name: ndots, value: "2" }, { name: edns0 }] }
  containers:
    - name: main
      image: ${registry.host}/shell:1
      args: [${JSON.stringify('cat /etc/resolv.conf; for i in $(seq 1 240); do wget -O - http://backend.default.svc.cluster.local/ 2>/dev/null && break; sleep 0.5; done')}]
`,
    });
    dataDir = mkdtempSync(join(tmpdir(), 'convergit-e2e-podman-dns-'));
    serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--runtime', 'podman', '--cluster-cidr', '10.248.0.0/16',
      '--service-cidr', SERVICE_CIDR]);
  });

  test.after(async () => {
    await serve?.shutdown().catch(() => serve.stop('SIGKILL'));
    const instance = createHash('sha256').update(join(dataDir, 'podman')).digest('hex').slice(0, 8);
    spawnSync('podman', ['rm', '-f', '-t', '0', '--filter', `label=convergit.instance=${instance}`]);
    const pods = spawnSync('podman', ['pod', 'ps', '-q', '--filter', `label=convergit.instance=${instance}`], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean);
    if (pods.length) spawnSync('podman', ['pod', 'rm', '-f', '-t', '0', ...pods]);
    removeLeftoverNetworks('10-248-');
    if (registry) removeImages(registry.host);
    await registry?.stop();
    repo?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the service CIDR is made local to the host, and the cluster DNS listens on its 10th address', async () => {
    assert.match(localRoutes(), /^local 10\.97\.0\.0\/16 dev lo /m);
    assert.match(serve.output(), /dns: cluster DNS on 10\.97\.0\.10:53 /);
  });

  test('a pod reaches another Deployment\'s Service by name and by ClusterIP; its resolv.conf is the cluster\'s', async () => {
    await until(async () => ['Succeeded', 'Failed'].includes((await pod('client'))?.status?.phase), 'the client pod to finish', 120_000);
    const log = await logOf('client');
    assert.is((await pod('client')).status.phase, 'Succeeded', log);
    assert.match(log, /^hello from busybox httpd$/m);
    assert.match(log, /^by fqdn: hello from busybox httpd$/m);
    assert.match(log, new RegExp(`^by clusterIP: hello from busybox httpd$`, 'm'));
    assert.match(log, /^unknown: wget: bad address 'nope'$/m);
    assert.match(log, /^nameserver 10\.97\.0\.10$/m);
    assert.match(log, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local\b/m);
    assert.match(log, /^options ndots:5$/m);
  });

  test('the containers of a pod share its localhost: a second container reaches httpd on localhost:80', async () => {
    const backend = await until(async () => {
      const items = (await serve.get('/api/v1/namespaces/default/pods?labelSelector=app%3Dbackend')).body.items as any[];
      return items.length === 1 && items[0];
    }, 'the backend pod');
    const name = backend.metadata.name;
    const log = await until(async () => {
      const text = (await serve.get(`/api/v1/namespaces/default/pods/${name}/log?container=peer`)).text;
      return /^localhost: /m.test(text) && text;
    }, 'the peer container to ask httpd', 120_000);
    assert.match(log, /^localhost: hello from busybox httpd$/m);
  });

  test('a host-network pod with ClusterFirstWithHostNet and dnsConfig gets the cluster DNS, merged as the kubelet does', async () => {
    await until(async () => ['Succeeded', 'Failed'].includes((await pod('hostnet'))?.status?.phase), 'the hostnet pod to finish', 120_000);
    const log = await logOf('hostnet');
    assert.is((await pod('hostnet')).status.phase, 'Succeeded', log);
    assert.match(log, /^nameserver 10\.97\.0\.10$/m);
    assert.match(log, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local (.* )?extra\.example$/m);
    assert.match(log, /^options ndots:2 edns0$/m);
    assert.match(log, /^hello from busybox httpd$/m);
  });

  test('a UDP Service: a pod asks it by name, the host by ClusterIP; hostAliases resolve in the pod', async () => {
    await until(async () => ['Succeeded', 'Failed'].includes((await pod('udp-client'))?.status?.phase), 'the UDP client pod to finish', 120_000);
    const log = await logOf('udp-client');
    assert.is((await pod('udp-client')).status.phase, 'Succeeded', log);
    const echoIP = (await pod('udp-echo')).status.podIP;
    assert.match(log, new RegExp(`^udp: ${echoIP.replace(/\./g, '\\.')}:ping$`, 'm'));
    assert.match(log, /^alias: 10\.1\.2\.3$/m);
    const clusterIP = (await serve.get('/api/v1/namespaces/default/services/udp-echo')).body.spec.clusterIP;
    const answer = await until(() => new Promise<string | undefined>((resolve) => {
      const s = dgram.createSocket('udp4');
      const done = (r?: string) => { clearTimeout(t); s.close(); resolve(r); };
      const t = setTimeout(() => done(), 1000);
      s.on('message', (m) => done(String(m)));
      s.send('host', 53, clusterIP);
    }), 'an answer on the ClusterIP from the host');
    assert.is(answer, `${echoIP}:host`);
  });

  test('the host reaches the ClusterIP; `convergit stop` removes the route it added', async () => {
    const res = await fetch(`http://${BACKEND_IP}/`);
    assert.is(await res.text(), 'hello from busybox httpd\n');
    await serve.shutdown();
    assert.not.match(localRoutes(), /10\.97\.0\.0\/16/);
  });

  test.run();
}
