// The podman runtime's sandboxes and starts: a sandbox left under the pod's name (a serve killed before it recorded
// it) is replaced, not an error; starts beyond the runtime's bound wait their turn and all run.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodmanRuntime } from '../../src/node/runtime/podman/podman.ts';
import { podmanMissing, removeLeftoverNetworks } from '../support/podman.ts';
import { until } from '../support/wait.ts';
import type { RunningContainer } from '../../src/node/runtime/runtime.ts';

const missing = podmanMissing();
if (missing) {
  console.log(`podman-sandbox: skipped, ${missing}`);
} else {
  let dir = '';
  let rt: PodmanRuntime;
  const cidr = '10.243.7.0/24';

  test.before(async () => {
    removeLeftoverNetworks('10-243-7-');
    dir = await mkdtemp(join(tmpdir(), 'convergit-podman-sandbox-'));
    rt = await PodmanRuntime.create({ stateDir: join(dir, 'podman'), startParallelism: 1 });
  });

  test.after(async () => {
    await rt.removeAll();
    await rt.close();
    await rm(dir, { recursive: true, force: true });
  });

  const spec = (uid: string, ip: string) => ({ id: 'default/left', uid, podCIDR: cidr, ip, hostNetwork: false, hostPorts: [] });
  const labelOf = (name: string) => execFileSync('podman', ['pod', 'inspect', name, '--format', '{{index .Labels "convergit.pod-uid"}}'], { encoding: 'utf8' }).trim();

  test('a sandbox left under the pod\'s name is replaced by the new one', async () => {
    const uid = crypto.randomUUID();
    const first = await rt.createSandbox({ ...spec(uid, '10.243.7.5'), hostname: 'first' });
    const again = await rt.createSandbox({ ...spec(uid, '10.243.7.6'), hostname: 'second', hostAliases: [{ ip: '10.1.2.3', hostnames: ['alias.example'] }] });
    assert.is(again, first);
    assert.is(labelOf(again), uid);
    // What a container of it sees: the new sandbox's hostname and address, the hostname in /etc/hosts as the kubelet
    // writes it, and the pod's hostAliases.
    const log = join(dir, 'left.log');
    const c = await rt.start({
      id: 'default/left/c', argv: ['sh', '-c', 'hostname; ip -4 -o addr show eth0; grep -e second -e alias /etc/hosts'], env: {}, cwd: '/', logFile: log, sandbox: again, podUID: uid, restartCount: 0,
    });
    assert.is((await c.exited).exitCode, 0, await readFile(log, 'utf8'));
    const out = (await readFile(log, 'utf8')).split('\n').map((l) => l.split(' ').slice(3).join(' ')).join('\n');
    assert.match(out, /^second$/m);
    assert.match(out, /inet 10\.243\.7\.6\/24/);
    assert.match(out, /^10\.243\.7\.6\s+second/m);
    assert.match(out, /^10\.1\.2\.3\s+alias\.example/m);
    await rt.removeSandbox(again);
  });

  test('starts past the bound (1 here) wait their turn, and every one runs', async () => {
    const uid = crypto.randomUUID();
    const sandbox = await rt.createSandbox({ ...spec(uid, '10.243.7.7'), id: 'default/bound' });
    const started: RunningContainer[] = await Promise.all([0, 1, 2].map((i) => rt.start({
      id: `default/bound/c${i}`, argv: ['sleep', '1000'], env: {}, cwd: '/', logFile: join(dir, `c${i}.log`), sandbox, podUID: uid, restartCount: 0,
    })));
    const running = execFileSync('podman', ['ps', '--filter', `pod=${sandbox}`, '--format', '{{.Names}}'], { encoding: 'utf8' }).split('\n').filter((n) => n.includes('bound_c'));
    assert.is(running.length, 3, running.join(' '));
    await Promise.all(started.map((c) => c.stop(0)));
    await rt.removeSandbox(sandbox);
  });

  test('a pod\'s own namespace: its containers share localhost, the host reaches its address, a restarted container keeps it; removal frees it', async () => {
    const uid = crypto.randomUUID();
    const sandbox = await rt.createSandbox({ ...spec(uid, '10.243.7.8'), id: 'default/shared' });
    assert.ok(existsSync(`/run/netns/${sandbox}`), 'a named network namespace');
    const launch = (name: string, script: string, restartCount = 0) => rt.start({
      id: `default/shared/${name}`, argv: [process.execPath, '-e', script], env: {}, cwd: '/', logFile: join(dir, `shared-${name}-${restartCount}.log`), sandbox, podUID: uid, restartCount,
    });
    const server = `require('node:http').createServer((q, s) => s.end('from the pod')).listen(8080, '0.0.0.0')`;
    let web = await launch('web', server);
    const viaLocalhost = async () => {
      const client = await launch('client', `fetch('http://127.0.0.1:8080').then((r) => r.text()).then((t) => { console.log(t); process.exit(0); }, () => process.exit(1))`);
      return (await client.exited).exitCode === 0;
    };
    const fromHost = () => fetch('http://10.243.7.8:8080').then((r) => r.text(), () => '');
    await until(async () => (await fromHost()) === 'from the pod', 'the host to reach the pod at its address');
    assert.ok(await viaLocalhost(), 'a second container reaches the first on localhost');
    await web.stop(0);
    web = await launch('web', server, 1);
    await until(async () => (await fromHost()) === 'from the pod', 'the restarted container on the same address');
    await web.stop(0);
    await rt.removeSandbox(sandbox);
    assert.not.ok(existsSync(`/run/netns/${sandbox}`), 'the namespace removed with the sandbox');
  });

  test('a pod\'s containers share one IPC namespace and /dev/shm, which another pod does not see; removal frees them', async () => {
    const sandboxes = await Promise.all([['a', '10.243.7.9'], ['b', '10.243.7.10']].map(([pod, ip]) =>
      rt.createSandbox({ ...spec(crypto.randomUUID(), ip), id: `default/ipc-${pod}` })));
    // Each container prints its IPC namespace and what /dev/shm holds, after writing its own file there. The first
    // stays up while the others look: the kernel reuses a freed namespace's number.
    const lines = async (log: string) => (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => l.split(' ').slice(3).join(' '));
    const seen = async (sandbox: string, name: string, stay = false) => {
      const log = join(dir, `ipc-${name}.log`);
      const c = await rt.start({
        id: `default/${sandbox}/${name}`, argv: ['sh', '-c', `readlink /proc/self/ns/ipc; touch /dev/shm/${name}; ls /dev/shm; echo .${stay ? '; exec sleep 1000' : ''}`],
        env: {}, cwd: '/', logFile: log, sandbox, podUID: 'ipc', restartCount: 0,
      });
      if (stay) await until(async () => (await lines(log)).includes('.'), `${name} to print its namespace`);
      else assert.is((await c.exited).exitCode, 0, await readFile(log, 'utf8'));
      const [ns, ...shm] = (await lines(log)).slice(0, -1);
      return { c, ns, shm };
    };
    const first = await seen(sandboxes[0], 'first', true);
    const second = await seen(sandboxes[0], 'second');
    const other = await seen(sandboxes[1], 'other');
    assert.match(first.ns, /^ipc:\[\d+\]$/);
    assert.is(second.ns, first.ns, 'two containers of one pod: one IPC namespace');
    assert.is.not(other.ns, first.ns, 'another pod: another IPC namespace');
    assert.is.not(first.ns, execFileSync('readlink', ['/proc/self/ns/ipc'], { encoding: 'utf8' }).trim(), 'not the host\'s');
    assert.equal(second.shm, ['first', 'second'], 'one /dev/shm in the pod');
    assert.equal(other.shm, ['other'], 'none of it in another pod');
    await first.c.stop(0);
    await Promise.all(sandboxes.map((s) => rt.removeSandbox(s)));
    for (const s of sandboxes) assert.not.ok(existsSync(`/run/convergit/pods/${s}`), 'the IPC namespace and /dev/shm removed with the sandbox');
  });

  test.run();
}
