// Limits and identity on the podman runtime, read back from inside the container (cgroup v1 or v2 files): memory,
// cpu quota and shares, pids; an OOM kill reported as OOMKilled/137; runAsUser and a read-only root; the check
// serve uses to choose podman.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PodmanRuntime } from '../../src/node/runtime/podman/podman.ts';
import { checkPodman } from '../../src/node/runtime/podman/detect.ts';
import type { ContainerLaunch } from '../../src/node/runtime/runtime.ts';
import { podmanMissing } from '../support/podman.ts';
import { presentLog } from '../../src/node/logs.ts';

const missing = podmanMissing();
if (missing) {
  console.log(`podman-limits: skipped, ${missing}`);
} else {
  let runtime: PodmanRuntime, dir: string;
  let n = 0;
  test.before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'convergit-podman-limits-'));
    runtime = await PodmanRuntime.create({ stateDir: join(dir, 'state'), pidsLimit: 321 });
  });
  test.after(async () => {
    await runtime?.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = async (script: string, extra: Partial<ContainerLaunch> = {}) => {
    const l: ContainerLaunch = { id: `default/limits/c${++n}`, argv: ['sh', '-c', script], env: {}, cwd: '/', logFile: join(dir, `${n}.log`), ...extra };
    const exit = await (await runtime.start(l)).exited;
    return { exit, log: presentLog(await readFile(l.logFile, 'utf8').catch(() => ''), {}) };
  };
  /** The first readable of cgroup v1 and v2 files, inside the container. */
  const cg = (...files: string[]) => files.map((f) => `cat /sys/fs/cgroup/${f} 2>/dev/null`).join(' || ');

  test('memory limit, cpu quota, cpu shares and the pids limit are the container\'s cgroup', async () => {
    const { exit, log } = await run([
      cg('memory/memory.limit_in_bytes', 'memory.max'),
      cg('cpu/cpu.cfs_quota_us', 'cpu.max'),
      cg('cpu/cpu.shares', 'cpu.weight'),
      cg('pids/pids.max', 'pids.max'),
    ].join('; '), { resources: { memoryLimitBytes: 64 * 1024 * 1024, cpuLimitMillis: 500, cpuRequestMillis: 250 } });
    assert.is(exit.reason, 'Completed', log);
    const [mem, quota, shares, pids] = log.trim().split('\n');
    assert.is(mem, String(64 * 1024 * 1024));
    assert.match(quota, /^50000( 100000)?$/); // half of a 100 ms period
    assert.ok(['256', '10'].includes(shares), shares); // 250m → 256 shares (v1), or the weight they map to (v2)
    assert.is(pids, '321');
  });

  test('over its memory limit the container is OOMKilled with 137', async () => {
    const { exit } = await run('exec tail /dev/zero', { resources: { memoryLimitBytes: 24 * 1024 * 1024 } });
    assert.equal([exit.reason, exit.exitCode], ['OOMKilled', 137]);
  });

  test('runAsUser/runAsGroup and a read-only root filesystem', async () => {
    const { exit, log } = await run('id -u; id -g; touch /x 2>/dev/null && echo writable || echo read-only', {
      security: { runAsUser: 1234, runAsGroup: 5678, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
    });
    assert.is(exit.reason, 'Completed');
    assert.is(log, '1234\n5678\nread-only\n');
  });

  test('capabilities: dropped ones are gone, added ones are there', async () => {
    const { log } = await run('grep CapEff /proc/self/status', { security: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE'] } } });
    assert.is(log.trim().split(/\s+/)[1], '0000000000000400'); // only CAP_NET_BIND_SERVICE (bit 10)
  });

  test('serve\'s check: a podman that runs a container is taken, a missing one is not', async () => {
    const ok = await checkPodman({ stateDir: join(dir, 'check') });
    assert.ok(ok.ok);
    if (ok.ok) await ok.runtime.close();
    const no = await checkPodman({ stateDir: join(dir, 'check2'), bin: join(dir, 'no-podman-here') });
    assert.equal(no, { ok: false, reason: 'podman not found on PATH' });
  });

  test.run();
}
