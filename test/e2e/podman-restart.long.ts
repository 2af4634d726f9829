// Pods coast through a control-plane restart on podman too: `kill -9` of serve leaves the containers running under
// conmon, the next serve re-adopts them (same container ids, same restartCount, the log file written on), reports
// the exit of one that died meanwhile as the kubelet would, and a rollout cut short by the kill completes without
// restarting any container. Logs are rotated meanwhile (a tiny --container-log-max-size) and carry conmon's times. `convergit stop` then stops every podman container and pod of the data folder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { podmanMissing, removeLeftoverNetworks } from '../support/podman.ts';
import { pushBusyboxImage, registryMissing, removeImages, startRegistry, type Registry } from '../support/registry.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const missing = podmanMissing() ?? registryMissing();
if (missing) {
  console.log(`e2e podman restart: skipped, ${missing}`);
} else {
  let registry: Registry, repo: TestRepo, dataDir: string, serve: ServeProcess | undefined;
  const ARGS = () => ['--repo', repo.dir, '--data-dir', dataDir, '--runtime', 'podman', '--cluster-cidr', '10.253.0.0/16',
    '--restart-backoff', '200ms', '--container-log-max-size', '2Ki', '--container-log-monitor-interval', '300ms',
    '--metric-resolution', '1s',
    // Any use of the disk is over the high threshold: every unused image convergit pulled is collected.
    '--image-gc-high-threshold', '1', '--image-gc-low-threshold', '0', '--image-minimum-gc-age', '1ms'];
  const instance = () => createHash('sha256').update(join(dataDir, 'podman')).digest('hex').slice(0, 8);
  const podmanIds = (...filters: string[]) => execFileSync('podman', ['ps', '-aq', '--no-trunc', '--filter', `label=convergit.instance=${instance()}`,
    ...filters.flatMap((f) => ['--filter', f])], { encoding: 'utf8' }).split('\n').filter(Boolean);

  const deployment = (version: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  strategy: { rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: httpd
          image: ${registry.host}/httpd:1
          env: [{ name: VERSION, value: "${version}" }]
          readinessProbe: { httpGet: { path: /, port: 80 }, periodSeconds: 1 }
`;
  // Writes a numbered line every 200 ms: its log shows whether it was restarted (the count would start again).
  const COUNTER = `apiVersion: v1
kind: Pod
metadata:
  name: counter
spec:
  containers:
    - name: count
      image: REGISTRY/httpd:1
      command: ["sh", "-c", "i=0; while true; do i=$((i+1)); echo line $i; sleep 0.2; done"]
`;

  const get = async (path: string) => (await serve!.get(path)).body;
  const ready = (p: any) => p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
  const cs = (p: any) => p?.status?.containerStatuses?.[0];
  const idOf = (p: any) => String(cs(p)?.containerID ?? '').replace('podman://', '');
  const webPods = async () => (await get('/api/v1/namespaces/default/pods?labelSelector=app%3Dweb')).items as any[];
  const counterLog = async () => (await serve!.get('/api/v1/namespaces/default/pods/counter/log')).text;
  const lines = (log: string) => log.split('\n').filter(Boolean).map((l) => Number(/^line (\d+)$/.exec(l)?.[1]));

  /** Both web pods of `version` Ready, no other left, the Deployment done; by name. */
  const converged = (version: string, what: string) => until(async () => {
    const pods = await webPods();
    const d = await get('/apis/apps/v1/namespaces/default/deployments/web');
    const ok = pods.length === 2 && pods.every((p) => ready(p) && !p.metadata.deletionTimestamp && p.spec.containers[0].env[0].value === version)
      && d.status?.updatedReplicas === 2 && d.status?.availableReplicas === 2 && d.status?.replicas === 2;
    return ok && new Map(pods.map((p) => [p.metadata.name, p]));
  }, what, 120_000);

  test.before(async () => {
    removeLeftoverNetworks('10-253-');
    registry = await startRegistry();
    pushBusyboxImage(`${registry.host}/httpd:1`, { entrypoint: ['httpd', '-f', '-p', '80', '-h', '/www'] });
    pushBusyboxImage(`${registry.host}/once:1`, { cmd: ['echo', 'once'] });
    pushBusyboxImage(`${registry.host}/unrelated:1`, { cmd: ['echo', 'unrelated'] });
    repo = makeRepo({ 'web.yaml': deployment('v1'), 'counter.yaml': COUNTER.replace('REGISTRY', registry.host) });
    dataDir = mkdtempSync(join(tmpdir(), 'convergit-e2e-podman-restart-'));
  });

  test.after(async () => {
    await serve?.shutdown().catch(() => serve?.stop('SIGKILL'));
    if (registry) removeImages(registry.host);
    await registry?.stop();
    repo?.cleanup();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  test('kill -9 of serve: the next serve re-adopts the running containers and reports the one that died meanwhile', async () => {
    serve = await startServe(ARGS());
    const before = await converged('v1', 'two web pods ready');
    await until(async () => lines(await counterLog()).length >= 3, 'the counter to write');
    const counterBefore = await get('/api/v1/namespaces/default/pods/counter');
    assert.is(await serve.stop('SIGKILL'), null);
    serve = undefined;
    const [a, b] = [...before.values()];
    for (const p of [a, b, counterBefore]) assert.equal(podmanIds(`id=${idOf(p)}`, 'status=running'), [idOf(p)], `${p.metadata.name} runs on`);
    execFileSync('podman', ['kill', '-s', 'KILL', idOf(a)]); // one dies while no serve runs

    serve = await startServe(ARGS());
    const after = await until(async () => {
      const m = await converged('v1', 'converged again');
      return cs(m.get(a.metadata.name))?.restartCount === cs(a).restartCount + 1 && m;
    }, 'the dead one restarted', 60_000);
    assert.equal([...after.keys()].sort(), [...before.keys()].sort(), 'the same pods, none added');
    const [a2, b2] = [after.get(a.metadata.name), after.get(b.metadata.name)];
    assert.is(idOf(b2), idOf(b), 'the healthy one is the same container');
    assert.is(cs(b2).restartCount, cs(b).restartCount);
    assert.is.not(idOf(a2), idOf(a));
    // Its exit as the kubelet reports it: podman kept the dead container, so the real code, not a guess.
    assert.equal([cs(a2).lastState.terminated?.exitCode, cs(a2).lastState.terminated?.containerID], [137, `podman://${idOf(a)}`]);
    // One container per pod: the dead one removed, nothing started twice.
    assert.equal(podmanIds(`pod=${podmanPodOf(a2)}`).filter((id) => !isInfra(id)), [idOf(a2)]);
    // The counter ran on: its log goes on counting, never starting again at 1.
    const counterAfter = await get('/api/v1/namespaces/default/pods/counter');
    assert.equal([idOf(counterAfter), cs(counterAfter).restartCount], [idOf(counterBefore), cs(counterBefore).restartCount]);
    const n = lines(await counterLog());
    await until(async () => lines(await counterLog()).length > n.length, 'the counter to write on');
    const all = lines(await counterLog());
    assert.equal(all, all.map((_, i) => all[0] + i), 'one unbroken count');
    // Its log was rotated meanwhile (conmon reopening the file, so the count is unbroken above), and
    // --timestamps shows the time conmon gave each line.
    const dir = join(dataDir, 'pods', `default_counter_${counterAfter.metadata.uid}`, 'count');
    await until(() => readdirSync(dir).some((f) => /^0\.log\.\d{8}-\d{6}$/.test(f)), 'a rotated log file', 30_000);
    const stamped = (await serve!.get('/api/v1/namespaces/default/pods/counter/log?timestamps=true&tailLines=2')).text.split('\n').filter(Boolean);
    assert.is(stamped.length, 2);
    for (const l of stamped) assert.match(l, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line \d+$/);
  });

  test('kubectl top: a podman container is measured from its cgroup', async () => {
    const m = await until(async () => {
      const r = await serve!.get('/apis/metrics.k8s.io/v1beta1/namespaces/default/pods/counter');
      return r.status === 200 && r.body.containers?.length === 1 && r.body;
    }, 'the counter measured', 30_000);
    assert.is(m.containers[0].name, 'count');
    assert.match(m.containers[0].usage.cpu, /^\d+n$/);
    assert.ok(Number(/^(\d+)Ki$/.exec(m.containers[0].usage.memory)?.[1]) > 0, m.containers[0].usage.memory);
  });

  test('image gc over the threshold: an unused image convergit pulled is removed, not one in use nor anyone else\'s', async () => {
    const exists = (ref: string) => spawnSync('podman', ['image', 'exists', ref]).status === 0;
    // Someone else on the machine pulls an image convergit never uses.
    execFileSync('podman', ['pull', '--quiet', '--tls-verify=false', `${registry.host}/unrelated:1`], { stdio: 'ignore' });
    repo.write('once.yaml', `apiVersion: v1
kind: Pod
metadata: { name: once }
spec:
  restartPolicy: Never
  containers: [{ name: once, image: ${registry.host}/once:1, imagePullPolicy: Always }]
`);
    repo.commit('once');
    await until(async () => (await get('/api/v1/namespaces/default/pods/once'))?.status?.phase === 'Succeeded', 'once Succeeded', 60_000);
    assert.ok(exists(`${registry.host}/once:1`), 'kept while its pod exists');
    repo.remove('once.yaml');
    repo.commit('once gone');
    await until(() => !exists(`${registry.host}/once:1`), 'the once image collected', 60_000);
    await until(() => /image gc: the image store's filesystem was \d+% used: removed \d+ unused image/.test(serve!.output()), 'gc to say so');
    assert.ok(exists(`${registry.host}/httpd:1`), 'an image in use stays');
    assert.ok(exists(`${registry.host}/unrelated:1`), 'an image convergit did not pull stays');
  });

  test('kill -9 of serve mid-rollout: a new serve completes the rollout, no container restarted', async () => {
    await converged('v1', 'v1 ready');
    repo.write('web.yaml', deployment('v2'));
    repo.commit('v2');
    // Mid-rollout: a v2 pod exists while a v1 pod still does.
    await until(async () => {
      const pods = await webPods();
      const versions = pods.map((p) => p.spec.containers[0].env[0].value);
      return versions.includes('v2') && versions.includes('v1') && pods.some((p) => idOf(p));
    }, 'the rollout under way', 60_000);
    const mid = new Map((await webPods()).map((p) => [p.metadata.name, p]));
    await serve!.stop('SIGKILL');
    serve = undefined;
    serve = await startServe(ARGS());
    const after = await converged('v2', 'the rollout complete');
    for (const [name, p] of after) {
      assert.is(cs(p).restartCount, 0, `${name} never restarted`);
      const was = mid.get(name);
      if (was && idOf(was)) assert.is(idOf(p), idOf(was), `${name} is the container it was before the kill`);
    }
    // The v1 pods' containers and sandboxes are gone; only the live pods' remain.
    await until(() => podmanIds().filter((id) => !isInfra(id)).length === 3 && podPods().length === 3, 'only the 3 live pods left in podman', 30_000);
  });

  test('convergit stop stops every podman container and pod of the folder', async () => {
    assert.ok(podmanIds('status=running').length > 0);
    await serve!.shutdown();
    serve = undefined;
    assert.equal(podmanIds(), []);
    assert.equal(podPods(), []);
    const left = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []).filter((n) => n.startsWith(`convergit-${instance()}-`));
    assert.equal(left('/run/netns'), [], 'no network namespace of the folder left');
    assert.equal(left('/run/convergit/pods'), [], 'no IPC namespace or /dev/shm of the folder left');
  });

  const isInfra = (id: string) => execFileSync('podman', ['container', 'inspect', '--format', '{{.IsInfra}}', id], { encoding: 'utf8' }).trim() === 'true';
  const podPods = () => execFileSync('podman', ['pod', 'ps', '-q', '--filter', `label=convergit.instance=${instance()}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const podmanPodOf = (p: any) => execFileSync('podman', ['container', 'inspect', '--format', '{{.Pod}}', idOf(p)], { encoding: 'utf8' }).trim();

  test.run();
}
