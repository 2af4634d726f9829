// Pods coast through a control-plane restart on podman too: `kill -9` of serve leaves the containers running under
// conmon, the next serve re-adopts them (same container ids, same restartCount, the log file written on), reports
// the exit of one that died meanwhile as the kubelet would, and a rollout cut short by the kill completes without
// restarting any container. `convergit stop` then stops every podman container and pod of the data folder.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
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
  const ARGS = () => ['--repo', repo.dir, '--data-dir', dataDir, '--runtime', 'podman', '--cluster-cidr', '10.247.0.0/16',
    '--restart-backoff', '200ms', '--interval', '1s'];
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
      terminationGracePeriodSeconds: 2
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
    removeLeftoverNetworks('10-247-');
    registry = await startRegistry();
    pushBusyboxImage(`${registry.host}/httpd:1`, { entrypoint: ['httpd', '-f', '-p', '80', '-h', '/www'] });
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
    assert.equal(all, all.map((_, i) => i + 1), 'one unbroken count');
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
  });

  const isInfra = (id: string) => execFileSync('podman', ['container', 'inspect', '--format', '{{.IsInfra}}', id], { encoding: 'utf8' }).trim() === 'true';
  const podPods = () => execFileSync('podman', ['pod', 'ps', '-q', '--filter', `label=convergit.instance=${instance()}`], { encoding: 'utf8' }).split('\n').filter(Boolean);
  const podmanPodOf = (p: any) => execFileSync('podman', ['container', 'inspect', '--format', '{{.Pod}}', idOf(p)], { encoding: 'utf8' }).trim();

  test.run();
}
