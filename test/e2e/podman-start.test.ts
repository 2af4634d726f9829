// What `npm start` does on a machine with podman (`serve --example`: no --runtime, a fresh data folder): serve
// chooses podman, the example's pods run there and answer over HTTP; then `convergit stop --data-dir …` leaves no
// container, pod, network, pod network namespace, bridge, masquerade rule or local route of that instance (podman's
// networks are the machine's: one left behind held its subnet, and the next serve given that block could start no
// pod). And podman networks left by removed data folders, as the leak left them (an older convergit's, labelled with
// its instance only; this one's, labelled with its folder), do not stop a new serve's pods on their subnets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { instanceOf, PodmanRuntime } from '../../src/node/runtime/podman/podman.ts';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { exampleApi } from '../support/example.ts';
import { interfaces, natPostrouting, podmanMissing, podmanNetworks, removeInstance, removeLeftoverNetworks } from '../support/podman.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const missing = podmanMissing();
if (missing) {
  console.log(`e2e podman start: skipped, ${missing}`);
} else {
  let root = '';
  const folders: string[] = [];
  const serves: ServeProcess[] = [];
  const OLD_NETWORK = 'convergit-0ld1nst4-10-238-1-0-24';

  const lines = (file: string, args: string[]) => execFileSync(file, args, { encoding: 'utf8' }).split('\n').filter(Boolean);
  const pods = async (serve: ServeProcess) => (await serve.get('/api/v1/namespaces/default/pods')).body.items as any[];
  const ready = (p: any) => p.status?.phase === 'Running' && p.status?.conditions?.some((c: any) => c.type === 'Ready' && c.status === 'True');
  const events = async (serve: ServeProcess) => ((await serve.get('/api/v1/namespaces/default/events')).body.items as any[]).map((e) => `${e.reason}: ${e.message}`).join('\n');

  /**
   * Everything of the instance on this machine (and in this network namespace) that convergit stop must remove;
   * `routesBefore`: the local routes there before its serve (an earlier file's, in this namespace, are not its).
   */
  function leftOf(instance: string, bridges: string[], serviceCIDR: string, routesBefore: string[]): Record<string, string[]> {
    const prefix = `convergit-${instance}-`;
    const label = `label=convergit.instance=${instance}`;
    return {
      containers: lines('podman', ['ps', '-aq', '--filter', label]),
      pods: lines('podman', ['pod', 'ps', '-q', '--filter', label]),
      networks: podmanNetworks(instance).map((n) => n.name),
      netns: lines('ip', ['netns', 'list']).filter((l) => l.startsWith(prefix)),
      podDirs: existsSync('/run/convergit/pods') ? readdirSync('/run/convergit/pods').filter((n) => n.startsWith(prefix)) : [],
      bridges: bridges.filter((b) => interfaces().includes(b)),
      masquerade: natPostrouting().filter((r) => r.includes(`convergit:${prefix}`)),
      localRoute: lines('ip', ['route', 'show', 'table', 'local']).filter((r) => r.startsWith(`local ${serviceCIDR} `) && !routesBefore.includes(r)),
    };
  }
  const nothing = { containers: [], pods: [], networks: [], netns: [], podDirs: [], bridges: [], masquerade: [], localRoute: [] };

  test.before(() => {
    removeLeftoverNetworks('10-238-');
    root = mkdtempSync(join(tmpdir(), 'convergit-e2e-podman-start-'));
  });

  test.after(async () => {
    for (const s of serves) await s.stop().catch(() => {});
    for (const d of folders) removeInstance(d);
    spawnSync('podman', ['network', 'rm', '-f', OLD_NETWORK]);
    removeLeftoverNetworks('10-238-');
    rmSync(root, { recursive: true, force: true });
  });

  test('npm start on podman: a fresh folder, no --runtime, the example answers; convergit stop leaves nothing of the instance', async () => {
    const dataDir = join(root, 'start');
    folders.push(dataDir);
    const routesBefore = lines('ip', ['route', 'show', 'table', 'local']);
    const serve = await startServe(['--example', '--data-dir', dataDir], { defaultRuntime: true, listenTimeoutMs: 60_000 });
    serves.push(serve);
    await until(async () => /addresses: pods from/.test(serve.output()), 'the address blocks said', 60_000);
    assert.match(serve.output(), /runtime: podman \(/);
    const { clusterCIDR, serviceCIDR } = serve.blocks();
    assert.match(clusterCIDR, /^10\./, serve.output());
    await until(async () => {
      const ps = (await pods(serve)).filter(ready);
      return ps.filter((p) => p.metadata.labels?.app === 'web').length === 3 && ps.some((p) => p.metadata.name === 'backend-0');
    }, 'three web pods and backend-0 Running and Ready', 180_000).catch(async (e) => { throw new Error(`${e.message}\n${await events(serve)}\n${serve.output()}`); });
    // The frontend counts visits through the backend's ClusterIP.
    const first = await until(() => exampleApi().catch(() => undefined), 'the example to answer on its NodePort', 30_000);
    const second = await exampleApi();
    assert.is(typeof first.visits, 'number', JSON.stringify(first));
    assert.is(second.visits, (first.visits as number) + 1);

    const instance = instanceOf(join(dataDir, 'podman'));
    const bridges = podmanNetworks(instance).map((n) => n.network_interface);
    assert.ok(bridges.length > 0, 'the node has its network');
    assert.ok(lines('ip', ['netns', 'list']).some((l) => l.startsWith(`convergit-${instance}-`)), 'pods in namespaces of convergit\'s own');
    await serve.shutdown(); // convergit stop --data-dir …: fails (exit 1) when podman refused to remove anything
    assert.equal(leftOf(instance, bridges, serviceCIDR, routesBefore), nothing);
  });

  test('networks left by removed data folders (an older convergit\'s and this one\'s) do not stop a new serve\'s pods on their subnets', async () => {
    // As a killed serve's folder, removed by a test's teardown, left its network: the pod gone, the network not.
    const gone = join(root, 'gone');
    mkdirSync(gone);
    const rt = await PodmanRuntime.create({ stateDir: join(gone, 'podman'), dataDir: gone });
    const sandbox = await rt.createSandbox({ id: 'default/x', uid: '00000000-0000-0000-0000-00000000000a', podCIDR: '10.238.0.0/24', ip: '10.238.0.9', hostNetwork: false, hostPorts: [] });
    await rt.removeSandbox(sandbox);
    await rt.api.close();
    rmSync(gone, { recursive: true });
    // An older convergit's, as found on the machine: labelled with its instance only, its data folder long gone.
    execFileSync('podman', ['network', 'create', '--subnet', '10.238.1.0/24', '--label', 'convergit.instance=0ld1nst4', OLD_NETWORK], { stdio: 'ignore' });

    const repo: TestRepo = makeRepo({
      'app/README': 'the sleeper\n',
      'sleeper.yaml': `apiVersion: apps/v1
kind: DaemonSet
metadata: { name: sleeper }
spec:
  selector: { matchLabels: { app: sleeper } }
  template:
    metadata: { labels: { app: sleeper } }
    spec:
      terminationGracePeriodSeconds: 1
      containers:
        - name: main
          image: git:app
          command: [sleep, '3600']
`,
    });
    const dataDir = join(root, 'new');
    folders.push(dataDir);
    const serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--runtime', 'podman', '--nodes', '2',
      '--cluster-cidr', '10.238.0.0/16', '--service-cidr', '10.237.0.0/16', '--ingress-port', '0'], { listenTimeoutMs: 60_000 });
    serves.push(serve);
    try {
      const running = await until(async () => { const ps = (await pods(serve)).filter((p) => p.status?.phase === 'Running'); return ps.length === 2 && ps; },
        'the DaemonSet\'s pod Running on both nodes', 120_000).catch(async (e) => { throw new Error(`${e.message}\n${await events(serve)}\n${serve.output()}`); });
      assert.equal(running.map((p: any) => p.status.podIP.split('.').slice(0, 3).join('.')).sort(), ['10.238.0', '10.238.1']);
      assert.match(serve.output(), new RegExp(`removed the stale network convergit-${instanceOf(join(gone, 'podman'))}-10-238-0-0-24 \\(10\\.238\\.0\\.0/24\\): its data folder ${gone} no longer exists`));
      assert.match(serve.output(), `removed the stale network ${OLD_NETWORK} (10.238.1.0/24): no data folder holds 10.238.1.0/24 now`);
      assert.not.match(await events(serve), /FailedCreatePodSandBox/);
    } finally {
      await serve.shutdown();
      repo.cleanup();
    }
    assert.equal(podmanNetworks(instanceOf(join(dataDir, 'podman'))), [], 'convergit stop removed its networks');
  });

  test.run();
}
