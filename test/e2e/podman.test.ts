// End to end on podman: a real `convergit serve --runtime podman`, a real registry started here (one open, one
// with htpasswd), images built from busybox-static and pushed by the test, manifests committed to a git repository.
// Two replicas of a port-80 httpd side by side, served through a Service and an Ingress on the host, ENTRYPOINT/CMD rules, a missing image, a private image with and
// without its pull secret, a memory hog OOMKilled and restarted, a git: image run over the host's system folders,
// pods removed from outside convergit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { podmanMissing, removeLeftoverNetworks } from '../support/podman.ts';
import { freePort, pushBusyboxImage, registryMissing, removeImages, startRegistry, type Registry } from '../support/registry.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const missing = podmanMissing() ?? registryMissing();
if (missing) {
  console.log(`e2e podman: skipped, ${missing}`);
} else {
  const creds = { user: 'ci', password: 's3cret' };
  let open: Registry, priv: Registry, repo: TestRepo, dataDir: string, serve: ServeProcess;
  let HOST_PORT = 0, INGRESS_PORT = 0;

  const pod = async (name: string) => (await serve.get(`/api/v1/namespaces/default/pods/${name}`)).body;
  const podsOf = async (app: string) => (await serve.get(`/api/v1/namespaces/default/pods?labelSelector=app%3D${app}`)).body.items as any[];
  const logOf = async (name: string) => (await serve.get(`/api/v1/namespaces/default/pods/${name}/log`)).text;
  const events = async (name: string) => ((await serve.get(`/api/v1/namespaces/default/events`)).body.items as any[])
    .filter((e) => e.involvedObject?.name === name).map((e) => `${e.reason}: ${e.message}`);
  const status = (p: any) => p?.status?.containerStatuses?.[0];
  const succeeded = (name: string) => until(async () => (await pod(name))?.status?.phase === 'Succeeded', `pod ${name} Succeeded`, 60_000)
    .catch(async (e) => { throw new Error(`${e.message}: ${JSON.stringify(status(await pod(name)))}; events: ${(await events(name)).join(' | ')}`); });

  const bare = (name: string, container: Record<string, unknown>, spec: Record<string, unknown> = {}) => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
spec:
  restartPolicy: Never
${Object.entries(spec).map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`).join('\n')}
  containers:
    - ${JSON.stringify({ name: 'main', ...container })}
`;

  test.before(async () => {
    removeLeftoverNetworks('10-246-');
    [open, priv] = await Promise.all([startRegistry(), startRegistry(creds)]);
    HOST_PORT = await freePort();
    INGRESS_PORT = await freePort();
    pushBusyboxImage(`${open.host}/httpd:1`, { entrypoint: ['httpd', '-f', '-p', '80', '-h', '/www'] });
    pushBusyboxImage(`${open.host}/shell:1`, { entrypoint: ['sh', '-c'], cmd: ['echo "from cmd in $(pwd)"'], workdir: '/data', env: { FROM_IMAGE: 'yes' } });
    pushBusyboxImage(`${priv.host}/private:1`, { cmd: ['echo', 'private image ran'] }, creds);
    const dockerconfig = Buffer.from(JSON.stringify({ auths: { [priv.host]: { auth: Buffer.from(`${creds.user}:${creds.password}`).toString('base64') } } })).toString('base64');
    repo = makeRepo({
      'web.yaml': `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers:
        - name: httpd
          image: ${open.host}/httpd:1
          ports: [{ containerPort: 80 }]
          readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
---
apiVersion: v1
kind: Service
metadata: { name: web }
spec:
  selector: { app: web }
  ports: [{ name: http, port: 80 }]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: { name: web }
spec:
  rules:
    - host: web.example
      http: { paths: [{ path: /, pathType: Prefix, backend: { service: { name: web, port: { name: http } } } }] }
`,
      'entrypoint.yaml': [
        bare('image-default', { image: `${open.host}/shell:1` }),
        bare('args-only', { image: `${open.host}/shell:1`, args: ['echo "args $(GREETING) image env $FROM_IMAGE"'], env: [{ name: 'GREETING', value: 'hi' }] }),
        bare('command-only', { image: `${open.host}/shell:1`, command: ['echo', 'command', 'alone'] }),
        bare('working-dir', { image: `${open.host}/shell:1`, command: ['pwd'], workingDir: '/tmp' }),
      ].join('---\n'),
      'missing.yaml': bare('missing', { image: `${open.host}/nope:1` }),
      'private.yaml': [
        `apiVersion: v1
kind: Secret
metadata:
  name: regcred
type: kubernetes.io/dockerconfigjson
data:
  .dockerconfigjson: ${dockerconfig}
`,
        // Always: once the other pod has pulled it, IfNotPresent would run the local copy, as Kubernetes does.
        bare('private-without-secret', { image: `${priv.host}/private:1`, imagePullPolicy: 'Always' }),
        bare('private-with-secret', { image: `${priv.host}/private:1` }, { imagePullSecrets: [{ name: 'regcred' }] }),
        // Only its ServiceAccount names the secret: the ServiceAccount admission writes it into the pod.
        `apiVersion: v1
kind: ServiceAccount
metadata:
  name: puller
imagePullSecrets: [{ name: regcred }]
`,
        bare('private-via-account', { image: `${priv.host}/private:1`, imagePullPolicy: 'Always' }, { serviceAccountName: 'puller' }),
      ].join('---\n'),
      'hog.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: hog
spec:
  containers:
    - name: hog
      image: ${open.host}/shell:1
      command: ["sh", "-c", "exec tail /dev/zero"]
      resources: { limits: { memory: 32Mi } }
`,
      'security.yaml': [
        // Not root, no capabilities, a read-only root, yet port 80 inside its own pod; an exec probe reads a file
        // only the image has; published on the host at a hostPort.
        bare('nobody-httpd', {
          image: `${open.host}/httpd:1`, command: ['sh', '-c', 'id -u; exec httpd -f -p 80 -h /www'],
          ports: [{ containerPort: 80, hostPort: HOST_PORT }],
          securityContext: { runAsUser: 65534, runAsGroup: 65534, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
          // A podman exec alone takes a good part of a second on a busy machine: more than the default 1 s timeout.
          readinessProbe: { exec: { command: ['cat', '/www/index.html'] }, periodSeconds: 1, timeoutSeconds: 10 },
        }),
        bare('privileged', { image: `${open.host}/shell:1`, command: ['true'], securityContext: { privileged: true } }),
        bare('host-network', { image: `${open.host}/shell:1`, command: ['true'] }, { hostNetwork: true }),
      ].join('---\n'),
      'git-image.yaml': bare('git-image', { image: 'git:app', command: ['sh', '-c', 'cat hello.txt; node -e "console.log(process.version.slice(0, 1))"'] }),
      'app/hello.txt': 'hello from a git image\n',
    });
    dataDir = mkdtempSync(join(tmpdir(), 'convergit-e2e-podman-'));
    serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--runtime', 'podman', '--cluster-cidr', '10.246.0.0/16', '--ingress-port', String(INGRESS_PORT),
      '--restart-backoff', '500ms', '--restart-backoff-max', '2s'], { listenTimeoutMs: 180_000 });
  });

  test.after(async () => {
    await serve?.shutdown(); // serve leaves its pods' containers running: `convergit stop` stops them
    for (const r of [open, priv]) if (r) removeImages(r.host);
    await Promise.all([open?.stop(), priv?.stop()]);
    repo?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const only = process.env.PODMAN_E2E_ONLY;
  const t = (name: string, fn: () => Promise<void>) => (!only || name.includes(only) ? test(name, fn) : undefined);

  test('serve says it runs podman, and the node takes its pod CIDR from --cluster-cidr', async () => {
    assert.match(serve.output(), /runtime: podman \(podman \d[^)]*; --runtime podman\)/);
    const node = (await serve.get('/api/v1/nodes')).body.items[0];
    assert.is(node.spec.podCIDR, '10.246.0.0/24');
    assert.match(node.status.nodeInfo.containerRuntimeVersion, /^podman:\/\/\d/);
  });

  t('two replicas of an image listening on port 80 run side by side, each on its own address', async () => {
    const pods = await until(async () => {
      const ps = await podsOf('web');
      return ps.length === 2 && ps.every((p) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True')) && ps;
    }, 'both web replicas Ready', 90_000);
    const ips = pods.map((p) => p.status.podIP);
    assert.is(new Set(ips).size, 2);
    for (const ip of ips) {
      assert.match(ip, /^10\.246\.0\.\d+$/);
      assert.is.not(ip, '10.246.0.1', 'the bridge keeps its own address');
      const res = await fetch(`http://${ip}:80/`);
      assert.is(res.status, 200);
      assert.is(await res.text(), 'hello from busybox httpd\n');
    }
    assert.match(status(pods[0]).containerID, /^podman:\/\/[0-9a-f]{64}$/);
    assert.match(status(pods[0]).imageID, new RegExp(`^${open.host}/httpd@sha256:[0-9a-f]{64}$`));
  });

  t('a Deployment of a registry image (no command), a Service and an Ingress serve through the host', async () => {
    // fetch() may not set Host: one plain request per try.
    const get = (host: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
      http.get({ host: '127.0.0.1', port: INGRESS_PORT, path: '/', headers: { host }, agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c)).on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      }).on('error', reject);
    });
    let last = '';
    const served = await until(async () => {
      const res = await get('web.example').catch((e) => { last = String(e); return undefined; });
      if (res) last = `${res.status} ${res.body}`;
      return res?.status === 200 && res.body;
    }, 'web served through the ingress', 90_000).catch((e) => { throw new Error(`${e.message}; last: ${last}`); });
    assert.is(served, 'hello from busybox httpd\n');
    assert.is((await get('other.example')).status, 404);
    const ing = (await serve.get('/apis/networking.k8s.io/v1/namespaces/default/ingresses/web')).body;
    assert.equal(ing.status.loadBalancer.ingress, [{ ip: '127.0.0.1' }]);
  });

  t('ENTRYPOINT and CMD of the image, args alone replacing CMD, command replacing both, workingDir', async () => {
    for (const name of ['image-default', 'args-only', 'command-only', 'working-dir']) await succeeded(name);
    assert.is(await logOf('image-default'), 'from cmd in /data\n');
    assert.is(await logOf('args-only'), 'args hi image env yes\n');
    assert.is(await logOf('command-only'), 'command alone\n');
    assert.is(await logOf('working-dir'), '/tmp\n');
  });

  t('a missing image: ErrImagePull, then ImagePullBackOff with the registry\'s message, and events', async () => {
    const seen: string[] = [];
    await until(async () => {
      const w = status(await pod('missing'))?.state?.waiting;
      if (w && seen.at(-1) !== w.reason) seen.push(w.reason);
      return seen.includes('ErrImagePull') && seen.at(-1) === 'ImagePullBackOff' && w;
    }, 'ErrImagePull then ImagePullBackOff', 60_000);
    const w = status(await pod('missing')).state.waiting;
    assert.match(w.message, `Failed to pull image "${open.host}/nope:1": `);
    assert.match(w.message, /manifest unknown/);
    const ev = await until(async () => {
      const e = await events('missing');
      return e.some((m) => m.startsWith('BackOff: Back-off pulling image')) && e;
    }, 'the back-off event');
    assert.ok(ev.includes('Failed: Error: ErrImagePull'), ev.join('\n'));
    assert.ok(ev.includes('Failed: Error: ImagePullBackOff'), ev.join('\n'));
    assert.ok(ev.some((m) => m.startsWith(`Failed: Failed to pull image "${open.host}/nope:1"`)), ev.join('\n'));
  });

  t('a private image: refused without its pull secret, run with it, or with its ServiceAccount\'s', async () => {
    await succeeded('private-with-secret');
    assert.is(await logOf('private-with-secret'), 'private image ran\n');
    const w = await until(async () => {
      const x = status(await pod('private-without-secret'))?.state?.waiting;
      return x?.reason === 'ImagePullBackOff' && x;
    }, 'the private image refused', 60_000);
    assert.match(w.message, /unauthorized|authentication required/);
    await succeeded('private-via-account');
    assert.equal((await pod('private-via-account')).spec.imagePullSecrets, [{ name: 'regcred' }], 'the account\'s secret, in the pod');
    assert.is(await logOf('private-via-account'), 'private image ran\n');
  });

  t('over its memory limit a container is OOMKilled (137) and restarted', async () => {
    const s = await until(async () => {
      const c = status(await pod('hog'));
      return c?.restartCount >= 1 && c.lastState?.terminated && c;
    }, 'the hog killed and restarted', 90_000);
    assert.equal([s.lastState.terminated.reason, s.lastState.terminated.exitCode], ['OOMKilled', 137]);
  });

  t('securityContext: a non-root, capability-less, read-only container serves port 80, probed by exec, on its hostPort', async () => {
    await until(async () => (await pod('nobody-httpd'))?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True'), 'nobody-httpd Ready', 60_000);
    assert.is(await logOf('nobody-httpd'), '65534\n');
    const res = await fetch(`http://127.0.0.1:${HOST_PORT}/`);
    assert.is(await res.text(), 'hello from busybox httpd\n');
  });

  t('privileged is refused without --allow-privileged; hostNetwork runs on the node\'s address', async () => {
    const w = await until(async () => status(await pod('privileged'))?.state?.waiting?.reason === 'CreateContainerConfigError' && status(await pod('privileged')).state.waiting, 'privileged refused', 60_000);
    assert.match(w.message, 'privileged, which this node does not allow (serve --allow-privileged)');
    await succeeded('host-network');
    const p = await pod('host-network');
    assert.is(p.status.podIP, p.status.hostIP);
  });

  t('a git: image runs its tree over the host\'s system folders, with no registry', async () => {
    await succeeded('git-image');
    assert.is(await logOf('git-image'), 'hello from a git image\nv\n');
  });

  t('a pod removed from outside (podman pod rm -f) is made anew and its container restarted; a restartPolicy Never pod fails', async () => {
    const ready = (p: any) => p?.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
    const [web] = await until(async () => { const ps = await podsOf('web'); return ps.length === 2 && ps.every(ready) && ps; }, 'web Ready', 90_000);
    const never = await until(async () => { const p = await pod('nobody-httpd'); return ready(p) && p; }, 'nobody-httpd Ready', 60_000);
    const before = status(web);
    const macOf = (p: any) => execFileSync('podman', ['exec', status(p).containerID.replace('podman://', ''), 'cat', '/sys/class/net/eth0/address'], { encoding: 'utf8' }).trim();
    const mac = macOf(web);
    // As a user on the host would, with podman's own configuration: the pods and everything in them go (at once:
    // httpd as PID 1 ignores SIGTERM, and podman would wait its 10 s for each container in turn).
    const sandboxes = [web, never].flatMap((p) => execFileSync('podman', ['pod', 'ps', '-q', '--filter', `label=convergit.pod-uid=${p.metadata.uid}`], { encoding: 'utf8' }).split('\n').filter(Boolean));
    assert.is(sandboxes.length, 2);
    execFileSync('podman', ['pod', 'rm', '-f', '--time', '0', ...sandboxes], { stdio: 'ignore' });
    // Restarted at least once, then the count checked: a second restart fails here and says so, rather than
    // waiting out the timeout (CI once timed out here, under load; not seen again in runs alone or beside others).
    let seen: unknown;
    const after = await until(async () => {
      const p = (await podsOf('web')).find((x) => x.metadata.uid === web.metadata.uid);
      seen = p?.status;
      return status(p)?.restartCount > before.restartCount && ready(p) && p;
    }, 'the web pod running again', 90_000).catch((e) => { throw new Error(`${e.message}; its last status: ${JSON.stringify(seen)}`); });
    assert.is(status(after).restartCount, before.restartCount + 1, 'restarted once');
    assert.is(after.status.podIP, web.status.podIP, 'the new sandbox has the pod\'s address');
    // And its MAC: the host's neighbour entry for the address (kept ~30 s) stays true, so the pod is reachable at once.
    assert.is(macOf(after), mac);
    assert.is.not(status(after).containerID, before.containerID);
    assert.equal([status(after).lastState.terminated.exitCode, status(after).lastState.terminated.reason], [137, 'Error']);
    assert.ok((await events(web.metadata.name)).includes('SandboxChanged: Pod sandbox changed, it will be killed and re-created.'));
    assert.is(await (await fetch(`http://${after.status.podIP}:80/`)).text(), 'hello from busybox httpd\n');
    const failed = await until(async () => { const p = await pod('nobody-httpd'); return p?.status?.phase === 'Failed' && p; }, 'nobody-httpd Failed', 60_000);
    assert.equal([status(failed).state.terminated?.exitCode, status(failed).restartCount], [137, 0]);
  });

  test.run();
}
