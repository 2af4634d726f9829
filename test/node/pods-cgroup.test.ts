// The process runtime's containers run in one CPU cgroup beside serve (pods-cgroup.ts): where serve's own cpu cgroup
// is, from mountinfo; a real group made and weighted; a real container moved into it by the helper as it starts; and serve
// putting its containers there (or not, with --pods-cpu-shares 0).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ownCpuCgroup, podsCpuGroup, podsShares, PODS_GROUP } from '../../src/node/runtime/pods-cgroup.ts';
import { spawnDetached, spawnInCgroup } from '../../src/node/runtime/process-spawner.ts';
import { makeRepo } from '../support/git-repo.ts';
import { startServe } from '../support/serve-process.ts';
import { until } from '../support/wait.ts';

const MODULE = new URL('../../src/node/runtime/pods-cgroup.ts', import.meta.url).pathname;
const TSX = new URL('../../node_modules/tsx/dist/loader.mjs', import.meta.url).pathname;

const V1 = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;

test('serve\'s own cpu cgroup: the v1 hierarchy that has the cpu controller, joined with its path there', () => {
  assert.is(ownCpuCgroup(V1, '4:memory:/x\n2:cpu,cpuacct:/system.slice/a.service\n0::/y\n'), '/sys/fs/cgroup/cpu,cpuacct/system.slice/a.service');
  assert.is(ownCpuCgroup(V1, '2:cpu,cpuacct:/\n'), '/sys/fs/cgroup/cpu,cpuacct');
  // A container's view: the hierarchy mounted from a subtree, and a mount point with a space (octal in mountinfo).
  const sub = '31 30 0:28 /docker/abc /sys/fs/cgroup/my\\040cpu rw - cgroup cgroup rw,cpu';
  assert.is(ownCpuCgroup(sub, '1:cpu:/docker/abc/inner\n'), '/sys/fs/cgroup/my cpu/inner');
  assert.is(ownCpuCgroup(sub, '1:cpu:/elsewhere\n'), undefined, 'a path outside the mounted subtree');
  assert.is(ownCpuCgroup(V1, '2:cpu,cpuacct:/../..\n'), undefined, 'outside its cgroup namespace\'s root');
  // cgroup v2 only (one line 0::/…), or a v1 hierarchy without cpu: none.
  assert.is(ownCpuCgroup('40 30 0:37 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw', '0::/user.slice\n'), undefined);
  assert.is(ownCpuCgroup(V1, '4:memory:/x\n'), undefined);
  // The cpuacct-only hierarchy is not taken for the cpu one.
  assert.is(ownCpuCgroup('32 30 0:29 / /sys/fs/cgroup/cpuacct rw - cgroup cgroup rw,cpuacct', '3:cpuacct:/\n'), undefined);
});

test('the pods weigh a core for each core but one, at least one', () => {
  assert.equal([podsShares(1), podsShares(2), podsShares(8), podsShares(512)], [1024, 1024, 7168, 262144]);
});

const own = (() => { try { return ownCpuCgroup(readFileSync('/proc/self/mountinfo', 'utf8'), readFileSync('/proc/self/cgroup', 'utf8')); } catch { return undefined; } })();
const usable = process.getuid?.() === 0 && own !== undefined && existsSync(path.join(own, 'cpu.shares'));
/** The cpu cgroup of a process, as a path in the hierarchy. */
const cpuGroupOf = (pid: number) => readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').map((l) => l.split(':')).find((f) => f[1]?.split(',').includes('cpu'))![2];

test('a real group: made with its shares, and a container the helper starts after is moved into it, the helper not', async () => {
  if (!usable) return console.log('notice: no writable cgroup v1 cpu hierarchy (needs root): the pods-group test is skipped');
  const name = `convergit-pods-test-${process.pid}`;
  const group = podsCpuGroup(512, name);
  assert.ok('dir' in group, JSON.stringify(group));
  const dir = (group as { dir: string }).dir;
  const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-cgroup-'));
  const release = spawnInCgroup(dir);
  const sleeps: number[] = [];
  const sleep = async () => {
    const started = await spawnDetached({ file: 'sleep', args: ['1000'], cwd: '/', env: { PATH: process.env.PATH! }, logFile: path.join(dataDir, 'log') });
    assert.ok('pid' in started, JSON.stringify(started));
    sleeps.push((started as { pid: number }).pid);
    return (started as { pid: number }).pid;
  };
  try {
    assert.is(readFileSync(path.join(dir, 'cpu.shares'), 'utf8').trim(), '512');
    const pid = await sleep();
    try {
      assert.ok(cpuGroupOf(pid).endsWith(`/${name}`), cpuGroupOf(pid));
      // The helper (this process's child that started it) stays beside its caller: its work counts with serve's.
      const helper = Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')[1]);
      assert.match(readFileSync(`/proc/${helper}/cmdline`, 'utf8'), 'spawn', 'the sleep\'s parent is the helper');
      assert.is(cpuGroupOf(helper), cpuGroupOf(process.pid), 'the helper stays where its caller is');
    } finally {
      process.kill(pid, 'SIGKILL');
    }
    // Asked again (a second engine of this process), the same group, its shares set anew; the group is used until
    // both have let it go.
    assert.equal(podsCpuGroup(1024, name), { dir, shares: 1024 });
    const releaseSecond = spawnInCgroup(dir);
    release();
    assert.ok(cpuGroupOf(await sleep()).endsWith(`/${name}`), 'still used by the second');
    releaseSecond();
    assert.is(cpuGroupOf(await sleep()), cpuGroupOf(process.pid), 'let go by both: started where the helper is');
  } finally {
    release();
    for (const p of sleeps) try { process.kill(p, 'SIGKILL'); } catch { /* gone */ }
    await until(() => { try { rmdirSync(dir); return true; } catch { return false; } }, 'the test group to be empty and removed');
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a user who may not write the hierarchy: no group, and no log line (the ordinary case)', () => {
  if (!usable || spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']).status !== 0) return console.log('notice: not root (or no setpriv): the unprivileged pods-group test is skipped');
  const script = `import { podsCpuGroup } from ${JSON.stringify(MODULE)}; console.log(JSON.stringify(podsCpuGroup(512, 'convergit-pods-nobody')));`;
  const out = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '--import', TSX, '--input-type=module', '-e', script], { encoding: 'utf8', cwd: '/' });
  assert.is(out.status, 0, out.stderr);
  assert.equal(JSON.parse(out.stdout), { unavailable: `${path.join(own!, 'convergit-pods-nobody')} cannot be written (needs root or a delegated cgroup)`, ordinary: true });
  assert.not.ok(existsSync(path.join(own!, 'convergit-pods-nobody')));
});

test('serve runs the process runtime\'s containers in the pods group and says so; --pods-cpu-shares 0 leaves them beside it', async () => {
  if (!usable) return console.log('notice: no writable cgroup v1 cpu hierarchy (needs root): serve\'s pods-group test is skipped');
  const existed = existsSync(path.join(own!, PODS_GROUP));
  const repo = makeRepo({
    'deploy/pod.yaml': 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: idle\nspec:\n  terminationGracePeriodSeconds: 1\n  containers:\n    - name: main\n      image: host\n      command: ["sleep", "1000"]\n',
  });
  try {
    for (const [flags, inGroup] of [[[], true], [['--pods-cpu-shares', '0'], false]] as const) {
      const dataDir = mkdtempSync(path.join(tmpdir(), 'convergit-cgroup-data-'));
      const serve = await startServe(['--repo', repo.dir, '--path', 'deploy', '--data-dir', dataDir, '--runtime', 'process', ...flags]);
      try {
        const pod = await until(async () => { const p = (await serve.get('/api/v1/namespaces/default/pods/idle')).body; return p?.status?.containerStatuses?.[0]?.state?.running && p; }, 'the pod running');
        const pid = Number(/(\d+)$/.exec(pod.status.containerStatuses[0].containerID)![1]);
        const group = cpuGroupOf(pid);
        if (inGroup) {
          assert.ok(group.endsWith(`/${PODS_GROUP}`), group);
          assert.match(serve.output(), `cpu: containers run in ${path.join(own!, PODS_GROUP)} (cpu.shares ${podsShares()};`);
        } else {
          assert.is(group, cpuGroupOf(serve.pid), 'where serve is');
          assert.not.match(serve.output(), 'cpu: ');
        }
      } finally {
        await serve.shutdown();
        rmSync(dataDir, { recursive: true, force: true });
      }
    }
  } finally {
    repo.cleanup();
    // Made by this test: removed (a serve still using it, another test's, keeps it: rmdir refuses then).
    if (!existed) try { rmdirSync(path.join(own!, PODS_GROUP)); } catch { /* in use */ }
  }
});

test.run();
