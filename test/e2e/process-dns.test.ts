// Cluster DNS for process pods, end to end: real `convergit serve --runtime process` (as root: the DNS on port 53),
// real host processes that resolve with glibc (getent, busybox wget) through the resolv.conf and /etc/hosts each pod
// gets in a mount namespace of its own: Services by short name, by `<svc>.<ns>` and by FQDN, a headless Service and a
// pod's hostname.subdomain, dnsPolicy Default / None / ClusterFirst with dnsConfig, and an exec probe
// that sees the pod's files too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const BACKEND_IP = '127.2.0.100';
const SERVER = `require('node:http').createServer((q, r) => r.end('hello from ' + process.env.POD_IP + '\\n')).listen(8080, process.env.POD_IP);`;
// The client asks until the backend and the headless pod answer by name (they may start after it), then prints.
const CLIENT = [
  'for i in $(seq 1 300); do out=$(busybox wget -q -O - http://backend:8080/ 2>/dev/null) && getent hosts db-0.peers >/dev/null && break; sleep 0.2; done',
  'echo "short: $out"',
  'echo "ns: $(getent hosts backend.default)"',
  'echo "fqdn: $(getent hosts backend.default.svc.cluster.local)"',
  'echo "headless: $(getent hosts peers)"',
  'echo "subdomain: $(getent hosts db-0.peers)"',
  'echo "self: $(getent hosts client)"',
  'echo "unknown: $(getent hosts nope || echo none)"',
  'echo "hostname: $(cat /proc/sys/kernel/hostname)"',
  'cat /etc/resolv.conf',
].join('\n');
const pod = (name: string, spec: string, script: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  restartPolicy: Never
${spec}  containers:
    - name: main
      image: host
      command: [sh, -c, ${JSON.stringify(script)}]
---
`;
const MANIFESTS = `apiVersion: v1
kind: Pod
metadata: { name: backend, labels: { app: backend } }
spec:
  containers:
    - name: web
      image: git:apps/web
      command: [node, server.js]
      ports: [{ containerPort: 8080 }]
      # Run as an exec in the container's mount namespace: it sees the pod's resolv.conf, not the host's.
      readinessProbe: { exec: { command: [grep, -q, 'search default.svc.cluster.local', /etc/resolv.conf] }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: backend }
spec:
  clusterIP: ${BACKEND_IP}
  selector: { app: backend }
  ports: [{ port: 8080, targetPort: 8080 }]
---
apiVersion: v1
kind: Pod
metadata: { name: db-0, labels: { app: peers } }
spec:
  hostname: db-0
  subdomain: peers
  setHostnameAsFQDN: true
  hostAliases: [{ ip: 10.1.2.3, hostnames: [foo.remote, bar.remote] }, { ip: "::1", hostnames: [six.local] }]
  containers:
    - name: main
      image: host
      command: [sh, -c, 'cat /etc/hosts; echo "hostname: $(cat /proc/sys/kernel/hostname)"; exec sleep 100000']
---
apiVersion: v1
kind: Service
metadata: { name: peers }
spec:
  clusterIP: None
  selector: { app: peers }
  ports: [{ port: 80 }]
---
${pod('client', `  dnsConfig: { searches: [extra.example], options: [{ name: ndots, value: "2" }, { name: edns0 }] }
`, CLIENT)}${pod('host-dns', '  dnsPolicy: Default\n', 'cat /etc/resolv.conf')}${pod('none-dns', `  dnsPolicy: None
  dnsConfig: { nameservers: [127.2.0.10], searches: [default.svc.cluster.local], options: [{ name: ndots, value: "1" }] }
`, 'cat /etc/resolv.conf; echo "short: $(getent hosts backend)"')}${pod('host-net', '  hostNetwork: true\n  hostAliases: [{ ip: 10.9.8.7, hostnames: [alias.example] }]\n',
  'cat /etc/hosts; echo "hostname: $(cat /proc/sys/kernel/hostname)"; echo "alias: $(getent hosts alias.example)"')}`;

let repo: TestRepo, dataDir: string, serve: ServeProcess;
const root = process.getuid?.() === 0;
const phase = async (name: string) => (await serve.get(`/api/v1/namespaces/default/pods/${name}`)).body?.status?.phase;
const logOf = async (name: string) => (await serve.get(`/api/v1/namespaces/default/pods/${name}/log`)).text;
/** The log of pod `name` once it has succeeded. */
const finished = async (name: string) => {
  await until(async () => ['Succeeded', 'Failed'].includes(await phase(name)), `pod ${name} to finish`, 60_000);
  const log = await logOf(name);
  assert.is(await phase(name), 'Succeeded', log);
  return log;
};

test.before(async () => {
  repo = makeRepo({ 'app.yaml': MANIFESTS, 'apps/web/server.js': SERVER });
  dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-process-dns-'));
  serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir], { listenTimeoutMs: 60_000 }); // a loaded machine
});

test.after(async () => {
  await serve?.shutdown().catch(() => {}); // the last test may have stopped it already
  repo?.cleanup();
  rmSync(dataDir, { recursive: true, force: true });
});

test('serve says how process pods resolve: their own files, with the cluster DNS on port 53', async () => {
  // Said once serve knows (it does not wait for it before serving).
  const said = await until(() => /dns: process pods (get their own|keep the host's) .*/.exec(serve.output())?.[0], 'serve to say how process pods resolve');
  if (!root) {
    assert.match(said, /keep the host's \/etc\/resolv\.conf/);
    return;
  }
  assert.match(serve.output(), /dns: cluster DNS on 127\.2\.0\.10:53 /);
  assert.match(said, /get their own \/etc\/resolv\.conf and \/etc\/hosts, each in a mount namespace of its own$/);
});

if (root) {
  test('a process pod reaches a Service by short name, resolves <svc>.<ns>, the FQDN, a headless Service and hostname.subdomain', async () => {
    const log = await finished('client');
    assert.match(log, /^short: hello from 127\.1\.\d+\.\d+$/m);
    assert.match(log, new RegExp(`^ns: ${BACKEND_IP.replace(/\./g, '\\.')}\\s+backend\\.default\\.svc\\.cluster\\.local$`, 'm'));
    assert.match(log, new RegExp(`^fqdn: ${BACKEND_IP.replace(/\./g, '\\.')}\\s+backend\\.default\\.svc\\.cluster\\.local$`, 'm'));
    const db = (await serve.get('/api/v1/namespaces/default/pods/db-0')).body.status.podIP;
    assert.match(log, new RegExp(`^headless: ${db.replace(/\./g, '\\.')}\\s+peers\\.default\\.svc\\.cluster\\.local$`, 'm'));
    assert.match(log, new RegExp(`^subdomain: ${db.replace(/\./g, '\\.')}\\s+db-0\\.peers\\.default\\.svc\\.cluster\\.local$`, 'm'));
    assert.match(log, /^unknown: none$/m);
  });

  test('its resolv.conf is the kubelet\'s: cluster DNS, search path with dnsConfig appended, options merged', async () => {
    const log = await finished('client');
    assert.match(log, /^nameserver 127\.2\.0\.10$/m);
    assert.match(log, /^search default\.svc\.cluster\.local svc\.cluster\.local cluster\.local (.* )?extra\.example$/m);
    assert.match(log, /^options ndots:2 edns0$/m);
  });

  test('its /etc/hosts is the kubelet\'s: its own address and hostname (FQDN with a subdomain), and nothing else', async () => {
    const client = (await serve.get('/api/v1/namespaces/default/pods/client')).body.status.podIP;
    const log = await finished('client');
    assert.match(log, new RegExp(`^self: ${client.replace(/\./g, '\\.')}\\s+client$`, 'm'));
    const db = (await serve.get('/api/v1/namespaces/default/pods/db-0')).body.status.podIP;
    const hosts = await until(async () => { const t = await logOf('db-0'); return t.includes('localhost') && t; }, 'db-0 to print its /etc/hosts');
    assert.match(hosts, /^# Kubernetes-managed hosts file\.$/m);
    assert.match(hosts, /^127\.0\.0\.1\tlocalhost$/m);
    assert.ok(hosts.includes(`${db}\tdb-0.peers.default.svc.cluster.local\tdb-0\n`), hosts);
    // hostAliases after a blank line and the kubelet's comment; the hostname in a UTS namespace of its own, the FQDN
    // with setHostnameAsFQDN.
    assert.ok(hosts.includes(`${db}\tdb-0.peers.default.svc.cluster.local\tdb-0\n\n# Entries added by HostAliases.\n10.1.2.3\tfoo.remote\tbar.remote\n::1\tsix.local\n`), hosts);
    assert.match(hosts, /^hostname: db-0\.peers\.default\.svc\.cluster\.local$/m);
    assert.match(log, /^hostname: client$/m);
    assert.is(readFileSync('/proc/sys/kernel/hostname', 'utf8').trim(), hostname(), 'the host\'s own hostname is untouched');
  });

  test('a host-network pod with hostAliases: the node\'s /etc/hosts and its aliases; the node\'s hostname', async () => {
    const log = await finished('host-net');
    assert.ok(log.startsWith(`# Kubernetes-managed hosts file (host network).\n${readFileSync('/etc/hosts', 'utf8')}`), log);
    assert.match(log, /\n\n# Entries added by HostAliases\.\n10\.9\.8\.7\talias\.example\nhostname: /);
    assert.match(log, new RegExp(`^hostname: ${hostname().replace(/\./g, '\\.')}$`, 'm'));
    assert.match(log, /^alias: 10\.9\.8\.7\s+alias\.example$/m);
  });

  test('dnsPolicy Default reads the host\'s resolv.conf; None gets only its dnsConfig, and resolves through it', async () => {
    assert.is(await finished('host-dns'), readFileSync('/etc/resolv.conf', 'utf8'));
    const none = await finished('none-dns');
    assert.ok(none.startsWith('nameserver 127.2.0.10\nsearch default.svc.cluster.local\noptions ndots:1\n'), none);
    assert.match(none, new RegExp(`^short: ${BACKEND_IP.replace(/\./g, '\\.')}\\s+backend\\.default\\.svc\\.cluster\\.local$`, 'm'));
  });

  test('the host\'s /etc/resolv.conf and /etc/hosts are untouched', async () => {
    assert.not.match(readFileSync('/etc/resolv.conf', 'utf8'), /cluster\.local/);
    assert.not.match(readFileSync('/etc/hosts', 'utf8'), /Kubernetes-managed/);
  });
}

// Port 53 without root, where the network namespace allows it: its own sysctl, changed only in a test's private
// namespace (nothing in it but loopback, as `unshare -n` makes it), never the machine's.
const privateNetns = readFileSync('/proc/net/dev', 'utf8').split('\n').slice(2).filter((l) => l.trim()).every((l) => /^\s*lo:/.test(l));
if (root && privateNetns) {
  test('serve as a user other than root, port 53 allowed: each pod\'s files in a mount namespace inside a user namespace', async () => {
    await serve.shutdown();
    const NOBODY = 65534;
    const SYSCTL = '/proc/sys/net/ipv4/ip_unprivileged_port_start';
    const before = readFileSync(SYSCTL, 'utf8');
    writeFileSync(SYSCTL, '53');
    // The Services, their pods and the client; the Service's address is the one this serve's blocks give.
    const manifests = MANIFESTS.split('---\n').filter((d) => !/name: (host-dns|none-dns|host-net)\b/.test(d)).join('---\n').replace(`  clusterIP: ${BACKEND_IP}\n`, '');
    const userRepo = makeRepo({ 'app.yaml': manifests, 'apps/web/server.js': SERVER });
    const userDir = mkdtempSync(path.join(tmpdir(), 'convergit-process-dns-user-'));
    let asUser: ServeProcess | undefined;
    try {
      execFileSync('chown', ['-R', `${NOBODY}:${NOBODY}`, path.dirname(userRepo.dir), userDir]);
      asUser = await startServe(['--repo', userRepo.dir, '--data-dir', userDir], {
        wrap: ['setpriv', `--reuid=${NOBODY}`, `--regid=${NOBODY}`, '--clear-groups'], env: { ...process.env, HOME: userDir }, listenTimeoutMs: 60_000,
      });
      serve = asUser;
      const dnsIP = /dns: cluster DNS on ([\d.]+):53 /.exec(asUser.output())?.[1];
      assert.ok(dnsIP, asUser.output());
      await until(() => /dns: process pods get their own \/etc\/resolv\.conf and \/etc\/hosts, each in a mount namespace of its own \(inside a user namespace: serve is not root\)/.test(asUser!.output()), 'serve to say its pods resolve in user namespaces');
      // The backend's exec readiness probe enters the pod's user and mount namespaces: without it, no answer.
      const log = await finished('client');
      assert.match(log, /^short: hello from 127\.\d+\.\d+\.\d+$/m);
      assert.match(log, /^fqdn: 127\.\d+\.\d+\.\d+\s+backend\.default\.svc\.cluster\.local$/m);
      assert.ok(log.includes(`nameserver ${dnsIP}\n`), log);
    } finally {
      writeFileSync(SYSCTL, before);
      await asUser?.shutdown();
      userRepo.cleanup();
      rmSync(userDir, { recursive: true, force: true });
    }
  });
}

test.run();
