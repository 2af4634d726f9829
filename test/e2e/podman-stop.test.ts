// `convergit stop` on podman without --grace-period: each container gets SIGTERM, then its own pod's grace before
// SIGKILL, as the kubelet gives it. (The tests' shutdown() stops with --grace-period 1, so the other podman files
// do not see this; e2e/restart checks the process runtime's.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../support/cli.ts';
import { makeRepo, type TestRepo } from '../support/git-repo.ts';
import { podmanMissing, removeLeftoverNetworks } from '../support/podman.ts';
import { startServe, type ServeProcess } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const missing = podmanMissing();
if (missing) {
  console.log(`e2e podman-stop: skipped, ${missing}`);
} else {
  let repo: TestRepo, dataDir: string, outDir: string, serve: ServeProcess | undefined;
  // A git: image (the repository's app/ over the host's system folders): no registry needed. The loops sleep in
  // short steps: a shell runs its trap only once the command in the foreground has ended.
  const pod = (name: string, grace: number, script: string) => `apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  terminationGracePeriodSeconds: ${grace}
  containers:
    - name: main
      image: git:app
      command: ["sh", "-c", ${JSON.stringify(script)}]
      volumeMounts: [{ name: out, mountPath: /out }]
  volumes: [{ name: out, hostPath: { path: ${outDir}, type: Directory } }]
`;

  test.before(async () => {
    removeLeftoverNetworks('10-244-');
    outDir = mkdtempSync(join(tmpdir(), 'convergit-e2e-podman-stop-out-'));
    repo = makeRepo({
      'app/README': 'the graceful and stubborn pods\' image\n',
      // Ends on SIGTERM, writing when it got it (ns) where the test can read it after the container is gone.
      'graceful.yaml': pod('graceful', 30, "trap 'date +%s%N > /out/term; exit 0' TERM; echo ready; while :; do sleep 0.1; done"),
      // Ignores SIGTERM and writes the time every tenth of a second until it is killed, once its pod's 3 s are over:
      // written aside and renamed, so a SIGKILL while date writes never leaves the file empty.
      'stubborn.yaml': pod('stubborn', 3, "trap '' TERM; echo ready; while :; do date +%s%N > /out/alive.new && mv /out/alive.new /out/alive; sleep 0.1; done"),
    });
    dataDir = mkdtempSync(join(tmpdir(), 'convergit-e2e-podman-stop-'));
    serve = await startServe(['--repo', repo.dir, '--data-dir', dataDir, '--runtime', 'podman', '--cluster-cidr', '10.244.0.0/16', '--ingress-port', '0',
      '--allow-host-path', outDir],
      { listenTimeoutMs: 180_000 });
  });

  test.after(async () => {
    await serve?.shutdown();
    removeLeftoverNetworks('10-244-');
    repo?.cleanup();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  });

  test('convergit stop gives each podman container SIGTERM and its pod\'s own grace before SIGKILL', async () => {
    const s = serve!;
    const running = (p: any) => p?.status?.containerStatuses?.[0]?.state?.running;
    const pods = await until(async () => {
      const ps = await Promise.all(['graceful', 'stubborn'].map(async (n) => (await s.get(`/api/v1/namespaces/default/pods/${n}`)).body));
      const ready = await Promise.all(ps.map(async (p) => running(p) && (await s.get(`/api/v1/namespaces/default/pods/${p.metadata.name}/log`)).text === 'ready\n'));
      return ready.every(Boolean) && ps;
    }, 'both pods running their loops', 90_000).catch(async (e) => {
      // What held them up: the sync's errors, or the containers' states.
      const states = await Promise.all(['graceful', 'stubborn'].map(async (n) => JSON.stringify((await s.get(`/api/v1/namespaces/default/pods/${n}`)).body?.status?.containerStatuses)));
      throw new Error(`${e.message}: ${JSON.stringify((await s.get('/status')).body.errors)}; ${states.join(' | ')}`);
    });
    const out = await runCli(['stop', '--data-dir', dataDir]);
    assert.is(out.code, 0, out.stdout + out.stderr);
    assert.match(out.stdout, /stopped 2 container\(s\) of 2 pod\(s\)/);
    assert.is(await s.stop(), 0, 'serve exited on its own, cleanly');
    serve = undefined;
    // Both got SIGTERM at once; the stubborn one lived on for its grace, measured by the containers' own clock.
    const ms = (f: string) => Number(readFileSync(join(outDir, f), 'utf8').trim()) / 1e6;
    const termAt = ms('term'), lastAlive = ms('alive');
    assert.ok(termAt > 0, 'the graceful container ran its SIGTERM trap');
    assert.ok(lastAlive > 0, 'the stubborn container wrote the time');
    const lived = lastAlive - termAt;
    assert.ok(lived >= 2500, `the stubborn container was given its pod's 3 s after SIGTERM (it lived ${lived.toFixed(0)} ms)`);
    assert.ok(lived < 25_000, `and not the graceful pod's 30 s, which ended at once (it lived ${lived.toFixed(0)} ms)`);
    for (const p of pods) {
      const left = execFileSync('podman', ['ps', '-aq', '--filter', `label=convergit.pod-uid=${p.metadata.uid}`], { encoding: 'utf8' }).trim();
      assert.is(left, '', `${p.metadata.name}: no container left`);
    }
  });

  test.run();
}
