// Rootless podman end to end: `convergit serve --runtime podman` run as a throwaway user (made here, with its
// subordinate id ranges, removed afterwards), pods on bridges in podman's rootless network namespace. Two port-80
// replicas Ready by an httpGet probe (serve reaches pod addresses through its helper in that namespace), a NodePort
// and an Ingress on the host, a pod reaching the Service by DNS name (ClusterIP and DNS listened on in that namespace), a configMap
// volume, a memory limit that rootless podman on cgroup v1 cannot enforce (a Warning event, not silence), kill -9
// of serve and a new one leaving every container running, a grpc readiness probe (dialled through the helper), the
// helper killed and started again by serve (pods reachable again), `convergit stop` as that user removing them, and the
// fallback to the process runtime for a user without subordinate ids.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { podmanMissing } from '../support/podman.ts';
import { freePort, pushBusyboxImage, registryMissing, startRegistry, type Registry } from '../support/registry.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

/** grpc.health.v1.Health/Check over plain HTTP/2 (node's own http2): SERVING. */
const GRPC_SERVER = `const http2 = require('node:http2');
const server = http2.createServer();
server.on('stream', (stream, headers) => {
  stream.on('data', () => {});
  stream.on('end', () => {
    const known = headers[':path'] === '/grpc.health.v1.Health/Check';
    stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
    stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': known ? '0' : '12' }));
    stream.end(known ? Buffer.from([0, 0, 0, 0, 2, 0x08, 1]) : undefined); // status = 1 (SERVING)
  });
});
server.listen(50051);
`;

/** Why this machine cannot run rootless podman for a user made here, or undefined. */
function rootlessMissing(): string | undefined {
  const m = podmanMissing() ?? registryMissing();
  if (m) return m;
  for (const bin of ['useradd', 'userdel', 'setpriv', 'newuidmap', 'newgidmap', 'slirp4netns']) {
    if (spawnSync('sh', ['-c', `command -v ${bin}`]).status !== 0) return `${bin} is not installed (apt-get install uidmap slirp4netns)`;
  }
  if (spawnSync('unshare', ['--user', 'true']).status !== 0) return 'this kernel does not let users make user namespaces';
  return undefined;
}

const missing = rootlessMissing();
if (missing) {
  console.log(`e2e podman rootless: skipped, ${missing}`);
} else {
  const user = `cvgrl${process.pid % 100000}`;
  let uid = 0, gid = 0, home = '', runtimeDir = '', env: NodeJS.ProcessEnv = {};
  let registry: Registry, repo: TestRepo, dataDir: string, serve: ServeProcess, NODE_PORT = 0, INGRESS_PORT = 0;
  // slirp4netns opens /dev/net/tun: 0666 on a usual machine (udev's rule), 0600 where no udev ran. There the user's
  // processes get a tun node of their own (0666, in a folder only root can enter) bound over it in a private mount
  // namespace: the machine's device keeps its mode, and no other test or user is given it.
  const tunMode = statSync('/dev/net/tun').mode;
  let tunDir = '';
  const tunWrap = () => (tunDir ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount --bind "$0" /dev/net/tun && exec "$@"', join(tunDir, 'tun')] : []);
  const wrap = () => [...tunWrap(), 'setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups'];
  const asUser = (cmd: string, args: string[]) => execFileSync(wrap()[0], [...wrap().slice(1), cmd, ...args], { env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const userPodman = (...args: string[]) => asUser('podman', args);

  const podsOf = async (app: string) => (await serve.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body.items as any[];
  const pod = async (name: string) => (await serve.get(`/api/v1/namespaces/default/pods/${name}`)).body;
  const events = async (name: string) => ((await serve.get('/api/v1/namespaces/default/events')).body.items as any[])
    .filter((e) => e.involvedObject?.name === name).map((e) => `${e.type} ${e.reason}: ${e.message}`);
  const ready = (p: any) => p?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
  const nodePortGet = async () => {
    const res = await fetch(`http://127.0.0.1:${NODE_PORT}/`).catch(() => undefined);
    return res?.ok ? res.text() : undefined;
  };

  test.before(async () => {
    execFileSync('useradd', ['-m', '-s', '/bin/sh', user]);
    uid = Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }));
    gid = Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }));
    home = `/home/${user}`;
    // useradd gives ranges where /etc/login.defs says so (Debian does); else a range past every other one.
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      const text = readFileSync(file, 'utf8');
      if (!text.split('\n').some((l) => l.startsWith(`${user}:`))) {
        const top = Math.max(100000, ...text.split('\n').filter(Boolean).map((l) => Number(l.split(':')[1]) + Number(l.split(':')[2])));
        appendFileSync(file, `${user}:${top}:65536\n`);
      }
    }
    if ((tunMode & 0o666) !== 0o666) {
      tunDir = mkdtempSync(join(tmpdir(), 'convergit-tun-')); // 0700
      const { rdev } = statSync('/dev/net/tun');
      execFileSync('mknod', ['-m', '0666', join(tunDir, 'tun'), 'c', String(rdev >> 8), String(rdev & 0xff)]);
    }
    // The runtime folder a login (logind) would give the user.
    runtimeDir = `/run/user/${uid}`;
    mkdirSync(runtimeDir, { recursive: true, mode: 0o700 });
    chownSync(runtimeDir, uid, gid);
    env = { PATH: process.env.PATH, HOME: home, USER: user, LOGNAME: user, XDG_RUNTIME_DIR: runtimeDir, CONVERGIT_NO_BUILD: process.env.CONVERGIT_NO_BUILD };

    registry = await startRegistry();
    NODE_PORT = 30000 + Math.floor(Math.random() * 2000);
    INGRESS_PORT = await freePort();
    pushBusyboxImage(`${registry.host}/httpd:1`, { entrypoint: ['httpd', '-f', '-p', '80', '-h', '/www'] });
    pushBusyboxImage(`${registry.host}/shell:1`, { entrypoint: ['sh', '-c'] });
    repo = makeRepo({
      'web.yaml': `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: httpd
          image: ${registry.host}/httpd:1
          ports: [{ containerPort: 80 }]
          readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  type: NodePort
  selector: { app: web }
  ports: [{ name: http, port: 80, nodePort: ${NODE_PORT} }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec:
  rules:
    - host: web.example
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { name: http } } } }] }
`,
      'client.yaml': `apiVersion: v1
kind: ConfigMap
metadata: { name: greeting }
data: { word: from-a-configmap }
---
apiVersion: v1
kind: Pod
metadata: { name: client, labels: { app: client } }
spec:
  volumes: [{ name: cfg, configMap: { name: greeting } }]
  containers:
    - name: client
      image: ${registry.host}/shell:1
      args: ["cat /cfg/word; while true; do wget -q -O- http://web/ && echo via-dns; sleep 1; done"]
      volumeMounts: [{ name: cfg, mountPath: /cfg }]
      resources: { limits: { memory: 64Mi } }
`,
      // A gRPC health server in plain node (http2), run over the host's system folders (a git: image).
      'apps/grpc/server.js': GRPC_SERVER,
      'grpc.yaml': `apiVersion: v1
kind: Pod
metadata: { name: grpc, labels: { app: grpc } }
spec:
  containers:
    - name: grpc
      image: git:apps/grpc
      command: ["node", "server.js"]
      readinessProbe: { grpc: { port: 50051 }, periodSeconds: 1 }
`,
    });
    // The user must read the repository and own its data folder.
    execFileSync('chown', ['-R', `${uid}:${gid}`, dirname(repo.dir)]);
    dataDir = mkdtempSync(join(tmpdir(), 'convergit-e2e-rootless-'));
    chownSync(dataDir, uid, gid);
    serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--runtime', 'podman', '--restart-backoff', '500ms', '--ingress-port', String(INGRESS_PORT)], { wrap: wrap(), env, listenTimeoutMs: 60_000 })
      .catch((e) => { console.error(e); throw e; }); // uvu does not print a failed before hook
  });

  test.after(async () => {
    await serve?.shutdown().catch((e) => console.error(e));
    await registry?.stop();
    repo?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    if (uid) {
      // What the user's podman left (its pause process, slirp4netns, conmon): by pid, then the user.
      const pids = spawnSync('pgrep', ['-u', String(uid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
      for (const pid of pids) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
      spawnSync('userdel', ['-r', '-f', user]);
      for (const file of ['/etc/subuid', '/etc/subgid']) {
        writeFileSync(file, readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith(`${user}:`)).join('\n'));
      }
      rmSync(runtimeDir, { recursive: true, force: true });
      rmSync(`/tmp/podman-run-${uid}`, { recursive: true, force: true });
    }
    if (tunDir) rmSync(tunDir, { recursive: true, force: true });
  });

  test('serve as a user other than root takes rootless podman and says so', () => {
    assert.match(serve.output(), /runtime: podman \(podman [\d.]+, rootless; --runtime podman\)/);
    assert.match(serve.output(), /rootless network namespace/);
  });

  test('two port-80 replicas run side by side with their own addresses, Ready by an httpGet probe from serve', async () => {
    const pods = await until(async () => {
      const ps = await podsOf('web');
      return ps.length === 2 && ps.every(ready) ? ps : undefined;
    }, 'both web pods Ready', 120_000).catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify((await podsOf('web')).map((p) => p.status))}\n${serve.output()}`); });
    const ips = pods.map((p) => p.status.podIP);
    assert.is(new Set(ips).size, 2);
    for (const ip of ips) assert.match(ip, /^10\./);
    // Containers of this user's podman, not root's.
    const names = userPodman('ps', '--format', '{{.Names}}').split('\n');
    assert.ok(names.filter((n) => n.includes('default_web')).length >= 2, names.join(' '));
  });

  test('the Service answers on the host\'s NodePort, and through the Ingress', async () => {
    const body = await until(nodePortGet, `the NodePort ${NODE_PORT} to answer`, 30_000);
    assert.match(body, /hello from busybox httpd/);
    // fetch() may not set Host: a plain request.
    const viaIngress = () => new Promise<string | undefined>((resolve) => {
      http.get({ host: '127.0.0.1', port: INGRESS_PORT, path: '/', headers: { host: 'web.example' }, agent: false }, (res) => {
        let text = '';
        res.on('data', (c) => (text += c)).on('end', () => resolve(res.statusCode === 200 ? text : undefined));
      }).on('error', () => resolve(undefined));
    });
    assert.is(await until(viaIngress, 'web through the ingress', 30_000), 'hello from busybox httpd\n');
  });

  test('a pod reaches the Service by its DNS name; its configMap volume is mounted', async () => {
    const log = await until(async () => {
      const t = (await serve.get('/api/v1/namespaces/default/pods/client/log')).text;
      return t.includes('via-dns') ? t : undefined;
    }, 'the client to fetch http://web/', 90_000).catch(async (e) => {
      throw new Error(`${e.message}: ${(await serve.get('/api/v1/namespaces/default/pods/client/log')).text}; ${JSON.stringify((await pod('client'))?.status)}`);
    });
    assert.match(log, /from-a-configmap/);
    assert.match(log, /hello from busybox httpd/);
  });

  test('a grpc readiness probe reaches its pod through the helper, as with root', async () => {
    await until(async () => ready(await pod('grpc')), 'the grpc pod Ready', 90_000)
      .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify((await pod('grpc'))?.status)}; ${(await events('grpc')).join('; ')}`); });
  });

  test('the helper in the namespace, killed, is started again by serve, and pods are reached again', async () => {
    const helpers = () => spawnSync('ps', ['-u', String(uid), '-o', 'pid=,comm=,args='], { encoding: 'utf8' }).stdout.split('\n')
      .filter((l) => / node .*convergit-rootless-netns/.test(l)).map((l) => Number(l.trim().split(/\s+/)[0]));
    const [before] = helpers();
    assert.ok(before, 'the helper runs');
    process.kill(before, 'SIGKILL');
    await until(async () => /rootless network helper runs again/.test(serve.output()), 'serve to start the helper again', 60_000);
    assert.match(serve.output(), /the helper in podman's rootless network namespace exited \((\d+|SIG[A-Z]+)\); starting it again/);
    const after = helpers();
    assert.is(after.length, 1);
    assert.not.equal(after[0], before);
    // A new connection into the namespace: the NodePort's relay to a pod.
    assert.match(await until(nodePortGet, 'the NodePort through the new helper', 30_000), /hello from busybox httpd/);
  });

  test('a memory limit rootless podman cannot enforce (cgroup v1) is a Warning event, not silence', async () => {
    const cgroupV2 = (() => { try { statSync('/sys/fs/cgroup/cgroup.controllers'); return true; } catch { return false; } })();
    if (cgroupV2) return console.log('  (cgroup v2 here: limits may be enforced; nothing to warn about)');
    const ev = await until(async () => (await events('client')).find((e) => e.includes('ResourcesNotEnforced')), 'the Warning event', 30_000);
    assert.match(ev, /^Warning ResourcesNotEnforced: Container client: memory limit not enforced/);
  });

  test('kill -9 of serve and a new one leave every container running; `convergit stop` as the user removes them', async () => {
    const before = (await podsOf('web')).map((p) => p.status.containerStatuses[0].containerID).sort();
    const blocks = serve.blocks();
    await serve.stop('SIGKILL');
    const running = userPodman('ps', '--format', '{{.ID}}').split('\n').filter(Boolean);
    for (const id of before) assert.ok(running.some((r) => id.includes(r)), `${id} still running`);
    serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--restart-backoff', '500ms'], { wrap: wrap(), env, defaultRuntime: true, listenTimeoutMs: 60_000 });
    // Without --runtime the folder's recorded podman decides the blocks too: the pods keep their addresses.
    assert.equal(serve.blocks(), blocks);
    const after = await until(async () => {
      const ps = await podsOf('web');
      return ps.length === 2 && ps.every(ready) ? ps : undefined;
    }, 'both web pods Ready again', 60_000);
    assert.equal(after.map((p) => p.status.containerStatuses[0].containerID).sort(), before);
    for (const p of after) assert.is(p.status.containerStatuses[0].restartCount, 0);
    const answered = await until(nodePortGet, 'the NodePort after the restart', 30_000).catch(async (e) => {
      const ep = (await serve.get('/api/v1/namespaces/default/endpoints/web')).body;
      const pods = (await podsOf('web')).map((p: any) => [p.metadata.name, p.status.podIP, p.status.conditions]);
      throw new Error(`${e.message}\nendpoints ${JSON.stringify(ep)}\npods ${JSON.stringify(pods)}\n${serve.output().replace(/^.*no ready endpoints.*\n/gm, '').slice(-6000)}`);
    });
    assert.match(answered, /hello from busybox httpd/);
    await serve.shutdown();
    assert.is(userPodman('ps', '-a', '--filter', 'label=convergit.instance', '--format', '{{.Names}}').trim(), '');
  });

  test('without its subordinate ids the user\'s serve runs the process runtime and says why', async () => {
    for (const file of ['/etc/subuid', '/etc/subgid']) {
      writeFileSync(file, readFileSync(file, 'utf8').split('\n').filter((l) => !l.startsWith(`${user}:`)).join('\n'));
    }
    const fallbackDir = join(dataDir, 'fallback');
    asUser('mkdir', [fallbackDir]);
    serve = await startServe(['--repo', repo.dir, '--data-dir', fallbackDir, '--nodes', '0'], { wrap: wrap(), env, defaultRuntime: true, listenTimeoutMs: 60_000 });
    assert.match(serve.output(), new RegExp(`runtime: process \\(podman [\\d.]+ is installed, but rootless podman needs a subordinate id range for ${user} in /etc/subuid`));
    assert.is((await serve.get('/status')).status, 200);
    await serve.shutdown();
  });

  test('the machine\'s /dev/net/tun keeps its mode', () => {
    assert.is((statSync('/dev/net/tun').mode & 0o7777).toString(8), (tunMode & 0o7777).toString(8));
  });

  test.run();
}
